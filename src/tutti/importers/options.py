"""Options every importer honours."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class ReadOptions:
    include_incognito: bool = False
    # "now" for the future-date plausibility check; fixed in tests.
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
