"""Where Tutti keeps things, declared once (and documented in the README; a test checks that)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class Setting:
    env: str
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "TUTTI_HOME",
        "Folder of the local store (default: the user data directory, e.g. ~/.local/share/tutti).",
    ),
    Setting("TUTTI_PROFILE", "Profile used when --profile is not given (default: me)."),
)

DEFAULT_PROFILE = "me"
STORE_FILE = "tutti.duckdb"


def home_dir(override: Path | None = None) -> Path:
    """The folder holding the local store: --home, else TUTTI_HOME, else the platform's user data folder."""
    if override is not None:
        return override
    env = os.environ.get("TUTTI_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("tutti", appauthor=False))


def default_profile() -> str:
    return os.environ.get("TUTTI_PROFILE") or DEFAULT_PROFILE
