"""The cooperative's rate limits, declared once as data, each with the setting that changes it.

A limit is a number of attempts in a fixed window; for logins, the failures in a row allowed before a back-off
begins, and its longest wait. Every limit can be set from the environment, as
``TUTTI_COOP_LIMIT_<ACTION>=COUNT/WINDOW`` (``30/15m``, ``200/1h``, ``1000/1d``, or a window in seconds): a campus
behind one NAT address, whose members all share one client bucket, raises the per-client limits. Kept apart from
``ratelimit`` (which counts) so the settings can read the registry without touching the database.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from tutti.coop.errors import ConfigError
from tutti.settings import Setting

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RULE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smhd]?)\s*$")


@dataclass(frozen=True)
class Rule:
    """At most ``attempts`` in each window of ``window_seconds``."""

    attempts: int
    window_seconds: int


@dataclass(frozen=True)
class Limit:
    action: str
    attempts: int
    window_seconds: int
    description: str

    @property
    def default(self) -> Rule:
        return Rule(self.attempts, self.window_seconds)

    @property
    def setting(self) -> Setting:
        return Setting(
            "TUTTI_COOP_LIMIT_" + self.action.upper().replace("-", "_"),
            f"{self.description}, as `COUNT/WINDOW` with the window in s, m, h or d "
            f"(default: `{self.attempts}/{_window_text(self.window_seconds)}`).",
        )


def _window_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# Logins back off instead (``ratelimit.attempt``): COUNT failures in a row are free, then each attempt waits,
# from 30 s doubling up to WINDOW.
_BACKOFF = "Wrong logins in a row {} before each attempt waits, from 30 s doubling up to the window"
LIMITS: tuple[Limit, ...] = (
    Limit("login-email", 10, 15 * 60, _BACKOFF.format("per account from devices that have not logged in to it")),
    Limit("login-device", 10, 15 * 60, _BACKOFF.format("per account from each device that has logged in to it")),
    Limit("login-client", 50, 15 * 60, _BACKOFF.format("per client address")),
    Limit("signup-client", 10, 60 * 60, "Signups per client address"),
    Limit("upload", 20, 24 * 60 * 60, "Uploads per member"),
)
LIMITS_BY_ACTION: dict[str, Limit] = {limit.action: limit for limit in LIMITS}


def parse_rule(raw: str, origin: str) -> Rule:
    """``COUNT/WINDOW`` (a window of seconds, or with a unit s, m, h, d); a ConfigError naming ``origin`` else."""
    found = _RULE.match(raw)
    if found is None:
        raise ConfigError(f"{origin} must read COUNT/WINDOW, such as 30/15m or 200/1h, not {raw!r}")
    attempts, window = int(found.group(1)), int(found.group(2)) * _UNITS[found.group(3) or "s"]
    if attempts < 1 or window < 1:
        raise ConfigError(f"{origin} must allow at least 1 attempt in a window of at least 1 second")
    return Rule(attempts, window)


def default_rules() -> dict[str, Rule]:
    return {limit.action: limit.default for limit in LIMITS}


def rules_from(environ: Mapping[str, str] | None = None) -> dict[str, Rule]:
    """Each limit's rule: its setting's value when set, its default otherwise."""
    env = os.environ if environ is None else environ
    rules: dict[str, Rule] = {}
    for limit in LIMITS:
        raw = env.get(limit.setting.env, "")
        rules[limit.action] = parse_rule(raw, limit.setting.env) if raw.strip() else limit.default
    return rules
