"""Whose bucket a request counts in: a forged ``X-Forwarded-For`` moves nobody, a named proxy's clients are told
apart, and a careless proxy list is refused at start."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests.coop.conftest import CoopDb
from tests.web.conftest import serving
from tutti.coop.errors import ConfigError
from tutti.coop.limits import Rule
from tutti.coop.settings import trusted_proxies_from
from tutti.web.app import create_app
from tutti.web.proxies import client_address

PROXY = "10.1.2.3"
TRUSTED = trusted_proxies_from("10.0.0.0/8, 2001:db8::/32")
ALLOWED = 3
addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)
junk = st.one_of(addresses, st.text(alphabet="0123456789abcdef.:[] ,unknown", max_size=30))


@given(peer=addresses, forged=st.lists(junk, max_size=5))
def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_sends(peer: str, forged: list[str]) -> None:
    assert client_address(peer, forged, ()) == peer


@given(
    client=addresses.filter(lambda a: ipaddress.ip_address(a) not in ipaddress.ip_network("10.0.0.0/8")),
    forged=st.lists(junk, max_size=5),
    hops=st.integers(0, 2),
)
def test_hops_written_left_of_the_first_untrusted_one_change_nothing(client: str, forged: list[str], hops: int) -> None:
    # What the client sends is left of what the trusted proxies append: the client's own address, then each proxy.
    chain = [", ".join(forged)] if forged else []
    chain += [client] + [f"10.0.0.{n + 1}" for n in range(hops)]
    assert client_address(PROXY, chain, TRUSTED) == str(ipaddress.ip_address(client))


def test_the_header_is_read_right_to_left_past_trusted_hops_only() -> None:
    assert client_address(PROXY, ["198.51.100.7, 10.9.9.9"], TRUSTED) == "198.51.100.7"
    assert client_address(PROXY, ["203.0.113.1", "198.51.100.7"], TRUSTED) == "198.51.100.7"
    assert client_address(PROXY, ["[2001:db8::5]:443, 198.51.100.7:5120"], TRUSTED) == "198.51.100.7"
    assert client_address(PROXY, [], TRUSTED) == PROXY
    assert client_address(PROXY, ["10.0.0.9, 10.0.0.8"], TRUSTED) == "10.0.0.9"
    assert client_address("127.0.0.1", ["198.51.100.7"], TRUSTED) == "127.0.0.1"


@pytest.mark.parametrize("raw", ["10.0.0.0/33", "proxy.example.org", "10.0.0.1/8/8", "::g"])
def test_a_careless_proxy_list_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="TUTTI_COOP_TRUSTED_PROXIES"):
        trusted_proxies_from(f"10.0.0.1, {raw}")


def _wrong_login(client: httpx.Client | TestClient, n: int, forwarded: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    body = {"email": f"nobody{n}@example.org", "password": "not the password at all"}
    return client.post("/api/session", json=body, headers=headers).status_code


def _strict(db: CoopDb, trusted: str = "") -> CoopDb:
    limits = {**db.settings.limits, "login-client": Rule(ALLOWED, 900)}
    return replace(db, settings=replace(db.settings, limits=limits, trusted_proxies=trusted_proxies_from(trusted)))


def test_a_loopback_client_forging_the_header_does_not_leave_its_bucket(founded_db: CoopDb) -> None:
    db = _strict(founded_db)
    app = create_app(db.settings, engine=db.engine, admit_every=None, workers=0)
    with serving(app, db) as server, httpx.Client(base_url=server.url) as client:
        answers = [_wrong_login(client, n, f"198.51.100.{n}") for n in range(ALLOWED + 2)]
    assert answers == [401] * ALLOWED + [429, 429]


def test_clients_behind_a_trusted_proxy_each_get_their_own_bucket(founded_db: CoopDb) -> None:
    db = _strict(founded_db, "10.0.0.0/8")
    app = create_app(db.settings, engine=db.engine, admit_every=None, workers=0)
    with TestClient(app, client=(PROXY, 40000)) as proxied:
        first = [_wrong_login(proxied, n, f"evil, 198.51.100.1, {PROXY}") for n in range(ALLOWED + 1)]
        second = [_wrong_login(proxied, n + 10, "198.51.100.2") for n in range(ALLOWED)]
        # The client's own forged entries, left of what the proxy appended, do not give it a fresh bucket.
        forged = _wrong_login(proxied, 99, "203.0.113.77, 198.51.100.1")
    assert first == [401] * ALLOWED + [429]
    assert second == [401] * ALLOWED
    assert forged == 429
    with TestClient(app, client=("192.0.2.50", 40000)) as direct:
        # An untrusted peer naming the second client's address counts in its own bucket, not theirs.
        assert [_wrong_login(direct, n + 20, "198.51.100.2") for n in range(ALLOWED)] == [401] * ALLOWED


def test_the_scheme_is_believed_from_a_trusted_proxy_only(founded_db: CoopDb) -> None:
    db = _strict(founded_db, "10.0.0.0/8")
    app = create_app(db.settings, engine=db.engine, admit_every=None, workers=0)
    body = {"email": "steward@example.org", "password": "founding steward passphrase"}
    https = {"X-Forwarded-Proto": "https"}
    with TestClient(app, client=(PROXY, 1)) as proxied:
        assert "secure" in proxied.post("/api/session", json=body, headers=https).headers["set-cookie"].lower()
    with TestClient(app, client=("192.0.2.50", 1)) as direct:
        assert "secure" not in direct.post("/api/session", json=body, headers=https).headers["set-cookie"].lower()
