"""Where Tutti keeps things, declared once (and documented in the README; a test checks that)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import platformdirs

from tutti.errors import UsageError


@dataclass(frozen=True)
class Setting:
    env: str
    description: str


# The limits of ``ArchiveLimits``, in the order of its fields.
_ARCHIVE_LIMITS = (
    Setting(
        "TUTTI_MAX_EXPORT_FILES",
        "Files an export may hold, zips inside it included (default: 20000).",
    ),
    Setting(
        "TUTTI_MAX_FILE_BYTES",
        "Largest file of an export, unpacked, in bytes (default: 536870912, that is 512 MiB). Importers read a "
        "file whole, so reading one takes a few times this much memory: this setting bounds it.",
    ),
    Setting(
        "TUTTI_MAX_EXPORT_BYTES",
        "Bytes an export may unpack to in all, zips inside it included (default: 17179869184, that is 16 GiB).",
    ),
    Setting(
        "TUTTI_MAX_COMPRESSION_RATIO",
        "Most a file of over 1 MiB inside a zip may be compressed, unpacked size over packed size (default: 200; "
        "exports compress about 10 to 1, zip bombs 1000 to 1).",
    ),
    Setting(
        "TUTTI_MAX_ZIP_NESTING",
        "Zips inside zips an export may have, counting the export's own zip (default: 4).",
    ),
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "TUTTI_HOME",
        "Folder of the local store (default: the user data directory, e.g. ~/.local/share/tutti).",
    ),
    Setting("TUTTI_PROFILE", "Profile used when --profile is not given (default: me)."),
    *_ARCHIVE_LIMITS,
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


@dataclass(frozen=True)
class ArchiveLimits:
    """What one export may hold, checked from a zip's directory before anything is unpacked (the
    ``TUTTI_MAX_*`` settings above)."""

    max_files: int = 20_000
    max_file_bytes: int = 512 * 1024**2
    max_total_bytes: int = 16 * 1024**3
    max_ratio: int = 200
    max_nesting: int = 4

    @classmethod
    def from_env(cls) -> ArchiveLimits:
        """The limits the environment sets, the defaults for the rest; UsageError names a setting that is not
        a positive whole number."""
        values: dict[str, int] = {}
        for limit, setting in zip(fields(cls), _ARCHIVE_LIMITS, strict=True):
            env = setting.env
            raw = os.environ.get(env, "").strip()
            if not raw:
                continue
            if not raw.isdigit() or int(raw) < 1:
                raise UsageError(f"{env} must be a positive whole number, not {raw!r}")
            values[limit.name] = int(raw)
        return cls(**values)
