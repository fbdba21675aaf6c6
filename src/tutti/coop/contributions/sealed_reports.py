"""Contribution reports kept sealed with the member's key; reason codes in the clear.

A decided report names the upload's files, may quote its records (problem examples) and words its reasons for
the member. All of that is personal text, so the report is stored sealed with the member's data key
(``contribution.sealed_report``) and destroyed with it at withdrawal; what stays in the clear, in
``contribution.reasons`` and in the audit log, are reason codes (``reason_codes``): which checks failed, never
what they quoted. A pending report (an id and a status) and an erased one hold nothing personal and stay plain.
"""

from __future__ import annotations

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import crypto
from tutti.coop.contributions.report import ContributionReport, erased
from tutti.coop.db import settings_of
from tutti.coop.errors import KeyDestroyed
from tutti.coop.models import Contribution, ContributionStatus, Member
from tutti.coop.settings import CoopSettings

UNUSABLE = "unusable"  # nothing readable, or no plays
FILES_DISAGREE = "files-disagree"
IMPLAUSIBLE = "implausible"  # followed by one ``implausible:<check>`` code per failed check
NEAR_COPY = "near-copy"
NOT_VALIDATED = "not-validated"
CODES = (UNUSABLE, FILES_DISAGREE, IMPLAUSIBLE, NEAR_COPY, NOT_VALIDATED)


def reason_codes(report: ContributionReport) -> tuple[str, ...]:
    """Why a rejected report was rejected, as codes (empty for any other)."""
    if report.status is not ContributionStatus.REJECTED:
        return ()
    codes: list[str] = []
    if report.consistency is None and report.plausibility is None and report.copy_check is None:
        codes.append(UNUSABLE)
    if report.consistency is not None and not report.consistency.passed:
        codes.append(FILES_DISAGREE)
    if report.plausibility is not None and not report.plausibility.passed:
        codes.append(IMPLAUSIBLE)
        codes += [f"{IMPLAUSIBLE}:{c.name}" for c in report.plausibility.checks if c.applicable and not c.passed]
    if report.copy_check is not None and report.copy_check.near_copy:
        codes.append(NEAR_COPY)
    return tuple(codes)


def store(
    session: Session,
    settings: CoopSettings,
    contribution: Contribution,
    report: ContributionReport,
    *,
    codes: tuple[str, ...] | None = None,
) -> tuple[str, ...]:
    """Seal ``report`` into ``contribution`` (status, codes and the sealed report); the codes stored."""
    member = session.get_one(Member, contribution.member_id)
    key = crypto.member_key(session, member, settings)
    stored = reason_codes(report) if codes is None else codes
    contribution.status = report.status
    contribution.sealed_report = crypto.encrypt_blob(key, orjson.dumps(report.to_json()))
    contribution.report = {}
    contribution.reasons = list(stored)
    return stored


def read(session: Session, row: Contribution) -> ContributionReport:
    """The typed report of a contribution row: unsealed, or as stored plain (pending, erased, older rows)."""
    if row.sealed_report is None:
        return ContributionReport.from_json(row.report or {}, contribution_id=row.id, status=row.status)
    member = session.get_one(Member, row.member_id)
    try:
        key = crypto.member_key(session, member, settings_of(session))
    except KeyDestroyed:
        return erased(row.id, row.status, member.withdrawn_utc or row.created_utc)
    data = orjson.loads(crypto.decrypt_blob(key, row.sealed_report))
    return ContributionReport.from_json(data, contribution_id=row.id, status=row.status)


def seal_plain_reports(session: Session, settings: CoopSettings) -> int:
    """Seal the decided reports older releases stored plain (with their worded reasons); how many."""
    rows = list(
        session.scalars(
            select(Contribution).where(
                Contribution.sealed_report.is_(None), Contribution.status != ContributionStatus.PENDING
            )
        )
    )
    sealed = 0
    for row in rows:
        report = read(session, row)
        if report.erased_utc is not None:
            row.reasons = []
            continue
        member = session.get_one(Member, row.member_id)
        if member.withdrawn_utc is not None:
            row.report, row.reasons = erased(row.id, row.status, member.withdrawn_utc).to_json(), []
            continue
        store(session, settings, row, report)
        sealed += 1
    return sealed
