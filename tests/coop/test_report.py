"""The contribution report: a typed, versioned record; what the first release stored (no version) still loads.

``tests/data/coop/report_v0_*.json`` are ``contribution.report`` values as the first release wrote them (its
``ContributionReport.to_json``, for an export of efrrowini accepted, then uploaded again by another member).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from tests.conftest import DATA
from tests.coop.conftest import NOW, CoopDb, join
from tutti.coop.contributions.queries import report_of
from tutti.coop.contributions.reading import FileReport
from tutti.coop.contributions.report import REPORT_VERSION, ContributionReport, CopyCheck
from tutti.coop.contributions.scoring import Score, ScoreItem
from tutti.coop.models import Contribution, ContributionStatus
from tutti.web import views


def old_row(name: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((DATA / "coop" / f"report_v0_{name}.json").read_bytes())
    return data


def test_a_report_of_the_first_release_loads_into_the_typed_record() -> None:
    data = old_row("accepted")
    report = ContributionReport.from_json(data, contribution_id="ignored", status=ContributionStatus.REJECTED)
    # What the row says wins over the fallbacks; ``points`` is derived again, and agrees.
    assert (report.contribution_id, report.status) == (data["contribution_id"], ContributionStatus.ACCEPTED)
    assert report.points == data["points"] == 76 and report.version == REPORT_VERSION
    assert report.files[0] == FileReport(**data["files"][0])
    assert report.score is not None and report.score.items[1] == ScoreItem(**data["score"]["items"][1])
    assert report.plausibility is not None and [c.name for c in report.plausibility.checks] == [
        c["name"] for c in data["plausibility"]["checks"]
    ]
    assert report.plausibility.checks[2].value == data["plausibility"]["checks"][2]["value"]
    assert report.copy_check == CopyCheck(**data["copy"])
    # Written again, it is the current version: the copy check under its own name, no derived points.
    written = report.to_json()
    assert written["version"] == REPORT_VERSION and "copy" not in written and "points" not in written
    assert {k: v for k, v in written["copy_check"].items() if k in data["copy"]} == data["copy"]
    assert ContributionReport.from_json(written, contribution_id="x", status=ContributionStatus.PENDING) == report


def test_a_near_copy_of_the_first_release_keeps_whose_history_it_matched_for_the_stewards_only() -> None:
    data = old_row("near_copy")
    report = ContributionReport.from_json(data, contribution_id="x", status=ContributionStatus.REJECTED)
    assert report.status is ContributionStatus.REJECTED and report.reasons == tuple(data["reasons"])
    assert report.copy_check is not None and report.copy_check.near_copy
    assert report.copy_check.matched_member_id == data["copy"]["matched_member_id"]
    mine = report.for_member()
    assert mine.copy_check is not None and mine.copy_check.matched_member_id is None
    assert mine.copy_check.similarity == 1.0 and mine.reasons == report.reasons


def test_a_withdrawals_erasure_marker_loads_as_an_erased_report() -> None:
    report = ContributionReport.from_json(
        {"erased": "2026-03-02T08:00:00+00:00"}, contribution_id="c1", status=ContributionStatus.ACCEPTED
    )
    assert report == ContributionReport(
        "c1", ContributionStatus.ACCEPTED, erased_utc=datetime(2026, 3, 2, 8, tzinfo=UTC)
    )


def test_old_rows_in_the_database_are_shown_through_the_typed_record(coop_db: CoopDb) -> None:
    member = join(coop_db, "old@example.org")
    data = old_row("near_copy")
    with coop_db.sessions.begin() as session:
        session.execute(
            insert(Contribution).values(
                id="old-row",
                member_id=member,
                created_utc=NOW,
                status=ContributionStatus.REJECTED,
                reasons=data["reasons"],
                report=data,
                plays_added=0,
                score=0,
            )
        )
    with coop_db.sessions() as session:
        row = session.get_one(Contribution, "old-row")
        assert report_of(session, row).copy_check == CopyCheck(**data["copy"])
        public = views.contribution_public(session, row)
    assert public.status is ContributionStatus.REJECTED and public.progress is None and public.report is not None
    assert public.report.copy_check is not None and public.report.copy_check.similarity == 1.0
    assert "matched_member_id" not in public.model_dump_json()
    assert [f.name for f in public.report.files] == [f["name"] for f in data["files"]]


_names = st.text(max_size=20)
_copies = st.builds(
    CopyCheck,
    similarity=st.floats(0, 1),
    method=st.sampled_from(["minhash", "exact"]),
    near_copy=st.booleans(),
    compared_members=st.integers(0, 10**6),
    matched_member_id=st.none() | _names,
    reason=_names,
)
_reports = st.builds(
    ContributionReport,
    contribution_id=_names,
    status=st.sampled_from(ContributionStatus),
    reasons=st.lists(_names, max_size=3).map(tuple),
    files=st.lists(
        st.builds(FileReport, name=_names, format=st.none() | _names, plays=st.integers(0, 10**7)), max_size=3
    ).map(tuple),
    plays_read=st.integers(0, 10**9),
    copy_check=st.none() | _copies,
    score=st.none()
    | st.builds(Score, st.lists(st.builds(ScoreItem, _names, st.integers(0, 10**6), _names), max_size=4).map(tuple)),
    erased_utc=st.none() | st.datetimes(timezones=st.just(UTC)),
)


@given(_reports)
def test_every_report_survives_its_json(report: ContributionReport) -> None:
    stored = orjson.loads(orjson.dumps(report.to_json()))
    assert ContributionReport.from_json(stored, contribution_id="", status=ContributionStatus.PENDING) == report
