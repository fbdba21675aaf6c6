"""A contribution's report: one typed record, stored as versioned JSON in ``contribution.report``.

The record says what validation measured and decided (files read, checks with their values, the copy check, the
score) or that it is still waiting (*pending*), or, after a withdrawal, that it was erased. It is written with
``version`` = ``REPORT_VERSION`` and read back through ``from_json``, which also reads what earlier versions
wrote: the first reports carried no version, named the copy check ``copy``, stored the derived ``points``, and a
withdrawal replaced the whole report with ``{"erased": <time>}``. Pages, the API and the member's data export all
read this record, never the JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from tutti.coop.contributions.consistency import Consistency
from tutti.coop.contributions.plausibility import Plausibility
from tutti.coop.contributions.reading import FileReport
from tutti.coop.contributions.scoring import Score
from tutti.coop.models import ContributionStatus

REPORT_VERSION = 1


@dataclass(frozen=True)
class CopyCheck:
    """How much of the upload another member's history holds, and of it the upload (``fingerprint``, ``matching``).

    ``similarity`` is the larger of the two shares (``upload_share``: the upload's content found in the closest
    history; ``history_share``: that history's content found in the upload); ``compared_members`` counts the
    histories that share anything with it. ``matched_member_id`` is for stewards.
    """

    similarity: float
    method: str
    near_copy: bool
    compared_members: int
    matched_member_id: str | None
    reason: str
    upload_share: float = 0.0
    history_share: float = 0.0


@dataclass(frozen=True)
class ContributionReport:
    contribution_id: str
    status: ContributionStatus
    reasons: tuple[str, ...] = ()
    # The verdict's reasons as codes (stable, for scripts and the stewards; the words above are for people).
    codes: tuple[str, ...] = ()
    files: tuple[FileReport, ...] = ()
    problems: int = 0
    plays_read: int = 0
    plays_distinct: int = 0
    plays_added: int = 0
    consistency: Consistency | None = None
    plausibility: Plausibility | None = None
    copy_check: CopyCheck | None = None
    score: Score | None = None
    # When the upload's plays begin and end (a copy case compares them: the owner's newer export reaches further).
    first_play_utc: datetime | None = None
    last_play_utc: datetime | None = None
    # Set once the member withdrew: everything above was blanked.
    erased_utc: datetime | None = None
    version: int = field(default=REPORT_VERSION)

    @property
    def accepted(self) -> bool:
        return self.status is ContributionStatus.ACCEPTED

    @property
    def pending(self) -> bool:
        return self.status is ContributionStatus.PENDING

    @property
    def held(self) -> bool:
        return self.status is ContributionStatus.HELD

    @property
    def points(self) -> int:
        """What the contribution earns: nothing unless accepted (a held one waits for its case)."""
        return self.score.total if self.score and self.accepted else 0

    def for_member(self) -> ContributionReport:
        """The report as its uploader sees it: whose history a near-copy matched is for the stewards only."""
        if self.copy_check is None or self.copy_check.matched_member_id is None:
            return self
        return dataclasses.replace(self, copy_check=dataclasses.replace(self.copy_check, matched_member_id=None))

    def to_json(self) -> dict[str, Any]:
        """JSON data of the current version (what ``contribution.report`` stores)."""
        data: dict[str, Any] = _ADAPTER.dump_python(self, mode="json")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], *, contribution_id: str, status: ContributionStatus) -> ContributionReport:
        """The record stored in a contribution row, of any version; the row's id and status fill what the
        oldest forms left out."""
        upgraded = _upgrade(dict(data), contribution_id, status)
        return _ADAPTER.validate_python(upgraded)


def _upgrade(data: dict[str, Any], contribution_id: str, status: ContributionStatus) -> dict[str, Any]:
    if "version" not in data:
        # Version 0: ``ContributionReport.to_json`` of the first release, or a withdrawal's erasure marker.
        if set(data) == {"erased"}:
            data = {"erased_utc": data["erased"]}
        data.pop("points", None)
        if "copy" in data:
            data["copy_check"] = data.pop("copy")
        data.setdefault("contribution_id", contribution_id)
        data.setdefault("status", status.value)
        data["version"] = REPORT_VERSION
    return data


def erased(contribution_id: str, status: ContributionStatus, when: datetime) -> ContributionReport:
    return ContributionReport(contribution_id, status, erased_utc=when)


_ADAPTER: TypeAdapter[ContributionReport] = TypeAdapter(ContributionReport)
