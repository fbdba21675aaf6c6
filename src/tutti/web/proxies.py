"""Which address a request comes from, behind the reverse proxies the operator names and no others.

``X-Forwarded-For`` is a list that every proxy appends its peer to, so only its right end can be believed, and
only as far as the hops that wrote it are trusted: the header is read right to left from the connecting peer,
past each address in ``TUTTI_COOP_TRUSTED_PROXIES``, and the first address that is not a trusted proxy is the
client. A peer that is not a trusted proxy is the client itself, whatever it sends (a forged header from a
loopback client changes nothing). ``X-Forwarded-Proto`` is believed from a trusted peer only, for the same reason.
The client's address is used, keyed and hashed, for rate limits only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [::1]:443, as some proxies write IPv6 with a port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.9:5120
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    parsed = _address(address)
    return parsed is not None and any(parsed in network for network in trusted)


def client_address(peer: str, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The client behind ``peer``: ``peer`` itself unless it is trusted, else the right-most untrusted hop of the
    ``X-Forwarded-For`` values (in the order received); when every hop is trusted, the left-most one."""
    if not is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        client = hop
        if not is_trusted(hop, trusted):
            break
    parsed = _address(client)
    return str(parsed) if parsed is not None else client


class TrustedProxies:
    """Set the request's client (and scheme) from the forwarding headers of trusted proxies only."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer, port = scope["client"]
            if is_trusted(peer, self.trusted):
                headers = Headers(scope=scope)
                scope = dict(scope)
                scope["client"] = (client_address(peer, headers.getlist("x-forwarded-for"), self.trusted), port)
                proto = headers.get("x-forwarded-proto", "").rpartition(",")[2].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
        await self.app(scope, receive, send)
