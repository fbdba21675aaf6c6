"""Rate limits set from the environment: a campus behind one address raises its signup limit, and a careless
value is refused at start rather than read as no limit at all."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.coop.conftest import EmptyDb, migrated_cooperative
from tutti.coop.errors import ConfigError, RateLimited
from tutti.coop.limits import LIMITS, Rule, parse_rule, rules_from
from tutti.coop.members import accounts
from tutti.coop.settings import CoopSettings, load_coop_settings

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
CAMPUS = "192.0.2.1"


def test_every_limit_has_a_setting_of_its_own() -> None:
    names = [limit.setting.env for limit in LIMITS]
    assert len(set(names)) == len(LIMITS)
    assert "TUTTI_COOP_LIMIT_SIGNUP_CLIENT" in names


@pytest.mark.parametrize(
    ("raw", "rule"),
    [("30/15m", Rule(30, 900)), ("200/1h", Rule(200, 3600)), (" 5 / 90 ", Rule(5, 90)), ("1000/1d", Rule(1000, 86400))],
)
def test_rules_read_count_and_window(raw: str, rule: Rule) -> None:
    assert parse_rule(raw, "X") == rule


@pytest.mark.parametrize("raw", ["0/1h", "10/0m", "10", "ten/1h", "10/1w", "-1/1h", "10/1h/2", "1e3/1h"])
def test_careless_values_are_refused_naming_the_setting(raw: str) -> None:
    with pytest.raises(ConfigError, match="TUTTI_COOP_LIMIT_UPLOAD"):
        rules_from({"TUTTI_COOP_LIMIT_UPLOAD": raw})


@given(st.integers(1, 10**6), st.integers(1, 10**4), st.sampled_from(["", "s", "m", "h", "d"]))
def test_any_positive_count_and_window_round_trip(attempts: int, window: int, unit: str) -> None:
    size = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert parse_rule(f"{attempts}/{window}{unit}", "X") == Rule(attempts, window * size)


def test_the_environment_sets_each_limit_and_leaves_the_others_at_their_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTTI_COOP_MASTER_KEY", "OJjlNcmmf0lVWdL2UMFbYdL2kZqz8gFbF5wdQOhmKnw=")
    monkeypatch.setenv("TUTTI_COOP_LIMIT_SIGNUP_CLIENT", "300/1h")
    settings = load_coop_settings(tmp_path)
    assert settings.limits["signup-client"] == Rule(300, 3600)
    assert settings.limits["login-client"] == next(limit.default for limit in LIMITS if limit.action == "login-client")


def _campus_signups(empty_db: EmptyDb, settings: CoopSettings, count: int) -> int:
    db = migrated_cooperative(empty_db, settings)
    accepted = 0
    for n in range(count):
        try:
            with db.sessions.begin() as session:
                accounts.signup(
                    session,
                    f"student{n}@campus.example.org",
                    "a long enough passphrase",
                    client=CAMPUS,
                    now=T0 + timedelta(seconds=n),
                )
            accepted += 1
        except RateLimited:
            pass
    return accepted


def test_a_campus_behind_one_address_signs_up_as_many_as_its_setting_allows(
    empty_db: EmptyDb, coop_settings: CoopSettings
) -> None:
    raised = replace(coop_settings, limits={**coop_settings.limits, "signup-client": Rule(25, 3600)})
    assert _campus_signups(empty_db, raised, 30) == 25


def test_by_default_one_address_signs_up_ten_an_hour(empty_db: EmptyDb, coop_settings: CoopSettings) -> None:
    assert _campus_signups(empty_db, coop_settings, 14) == 10
