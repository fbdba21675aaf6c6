"""Recording a decided upload: the contribution row and its report, the audit log, its new plays in the pool, its
shingles in the copy index and, when held, its copy case.

The report is sealed with the member's key (``sealed_reports``); the row and the log keep reason codes. All in
the deciding transaction: the pool file and its catalog row (``pool.catalog.add``), the sealed plays and
the removal of the sealed upload follow it (``tutti.coop.staged``), so a rollback or a crash leaves the
contribution pending with its upload, and a commit leaves it decided without.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from tutti.coop import audit, staged
from tutti.coop.contributions import cases, evidence, matching, sealed_reports
from tutti.coop.contributions.checking import Checked
from tutti.coop.contributions.copies import Fingerprinted
from tutti.coop.contributions.deciding import Decision
from tutti.coop.contributions.known import Known
from tutti.coop.contributions.report import ContributionReport
from tutti.coop.models import Contribution, Member
from tutti.coop.pool import catalog
from tutti.coop.settings import CoopSettings


def record(
    session: Session,
    settings: CoopSettings,
    contribution: Contribution,
    known: Known,
    checked: Checked,
    printed: Fingerprinted,
    decision: Decision,
    blob: str | None,
    *,
    now: datetime,
) -> ContributionReport:
    """Write the decision about ``contribution`` (pending until now) and return its report."""
    upload = checked.upload
    new_rows = decision.scored.new_rows if decision.scored is not None else None
    report = ContributionReport(
        contribution_id=contribution.id,
        status=decision.status,
        reasons=decision.reasons,
        codes=decision.codes,
        files=tuple(upload.files),
        problems=upload.problems,
        plays_read=upload.table.num_rows,
        plays_distinct=printed.rows.num_rows,
        plays_added=new_rows.num_rows if new_rows is not None else 0,
        consistency=checked.consistency,
        plausibility=checked.plausibility,
        copy_check=decision.copy_check,
        score=decision.scored.score if decision.scored is not None else None,
        first_play_utc=_moment(printed.rows, pc.min),
        last_play_utc=_moment(printed.rows, pc.max),
    )
    if contribution.upload_path is not None:
        staged.delete_on_commit(session, settings.data_dir / contribution.upload_path)
    codes = sealed_reports.store(session, settings, contribution, report, codes=report.codes if decision.held else None)
    contribution.blob_path = blob
    contribution.upload_path = None
    contribution.plays_added = report.plays_added
    contribution.score = report.points
    contribution.fingerprint = None
    contribution.export_label = ", ".join(sorted({f.format for f in upload.files if f.format and f.plays})) or None
    session.flush()
    if decision.keeps_plays:
        matching.index(session, known.member_id, contribution.id, printed.sampled)
    if decision.held:
        case = cases.hold(session, settings, contribution, decision.matched, now=now)
        audit.record(session, audit.ContributionHeld(known.member_id, contribution.id, case.id), now=now)
        return report
    if report.accepted:
        audit.record(
            session,
            audit.ContributionAccepted(known.member_id, contribution.id, report.plays_added, report.points),
            now=now,
        )
        if new_rows is not None and new_rows.num_rows:
            member = session.get_one(Member, known.member_id)
            catalog.add(session, known.pool, member, contribution.id, new_rows, known.member_key, now=now)
            evidence.learn(session, new_rows)
        return report
    audit.record(session, audit.ContributionRejected(known.member_id, contribution.id, codes), now=now)
    if report.copy_check is not None and report.copy_check.near_copy:
        flagged = audit.ContributionFlagged(known.member_id, contribution.id, round(report.copy_check.similarity, 2))
        audit.record(session, flagged, now=now)
    return report


def _moment(rows: pa.Table, pick: Callable[[pa.ChunkedArray], pa.Scalar]) -> datetime | None:
    """The earliest or latest moment of the plays (the start where known, else the end)."""
    if not rows.num_rows:
        return None
    moments = pc.coalesce(rows.column("start_utc"), rows.column("end_utc"))
    value = pick(moments).as_py()
    return value if isinstance(value, datetime) else None
