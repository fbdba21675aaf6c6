"""Every real export is accepted and none is held; cheap fabrications earn nothing and never enter the pool.

The false-positive figure is measured on every real sample in ../shared/samples, each person's exports uploaded by
a member of their own (the two successive exports of one person by that member, older first), on SQLite and
PostgreSQL, at the time the test runs (the samples hold plays up to 2026).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, join
from tests.helpers.fabrications import clockwork, write_records
from tutti.coop.contributions import scoring
from tutti.coop.contributions.pipeline import contribute
from tutti.coop.contributions.report import ContributionReport
from tutti.coop.models import ContributionStatus, Member
from tutti.coop.pool.files import pool_of

# Each person's exports, oldest first.
PEOPLE: dict[str, list[tuple[str, ...]]] = {
    "alanindra": [("spotify-extended", "alanindra"), ("spotify-account", "alanindra")],
    "candidlyred": [("spotify-extended", "candidlyred")],
    "efrrowini": [("spotify-extended", "efrrowini")],
    "mica-92": [("spotify-extended", "mica-92")],
    "fedecalendino": [("spotify-account", "fedecalendino-2020-11"), ("spotify-account", "fedecalendino-2021-01")],
    "hobbies-w-erin": [("spotify-account", "hobbies-w-erin")],
    "romainleclair": [("spotify-account", "romainleclair")],
    "aleex-cs": [("lastfm", "aleex-cs")],
    "florianruby": [("lastfm", "florianruby")],
    "mbartoli": [("lastfm", "mbartoli")],
    "pingw33n": [("lastfm", "pingw33n")],
    "vietvudanh": [("apple-music", "vietvudanh")],
    "tunaerol": [("youtube-music", "tunaerol")],
}


def upload(db: CoopDb, member_id: str, paths: list[Path]) -> ContributionReport:
    with db.sessions.begin() as session:
        return contribute(session, db.settings, session.get_one(Member, member_id), paths)


@pytest.mark.samples
def test_every_real_export_is_accepted_and_none_is_held(coop_db: CoopDb) -> None:
    reports: dict[tuple[str, ...], ContributionReport] = {}
    for person, exports in PEOPLE.items():
        member = join(coop_db, f"{person}@example.org")
        for parts in exports:
            reports[parts] = upload(coop_db, member, [samples_path(*parts)])
    wrong = {parts: (r.status, r.reasons) for parts, r in reports.items() if not r.accepted}
    assert wrong == {}, f"{len(wrong)} of {len(reports)} real exports not accepted"
    assert len(reports) == 15
    for parts, report in reports.items():
        assert report.copy_check is not None and not report.copy_check.near_copy, parts
        assert report.copy_check.similarity < 0.05, (parts, report.copy_check.similarity)
    # The newer export of one person adds what the older lacked; every other export pools plays of its own.
    assert reports[("spotify-account", "fedecalendino-2021-01")].plays_added == 7_388
    assert all(r.plays_added > 0 and r.points > 0 for r in reports.values())


@pytest.mark.parametrize("every", [200, 60])
def test_a_crude_fabrication_earns_nothing_and_is_not_pooled(coop_db: CoopDb, tmp_path: Path, every: int) -> None:
    member = join(coop_db, "inventor@example.org")
    made = write_records(tmp_path / "made", "Streaming_History_Audio_2023_0.json", clockwork(20_000, every=every))
    report = upload(coop_db, member, [made])
    assert report.status is ContributionStatus.REJECTED and report.points == 0 and report.plays_added == 0
    assert report.plausibility is not None and not report.plausibility.passed
    failed = {c.name for c in report.plausibility.checks if c.applicable and not c.passed}
    assert {"daily_rhythm", "sleepless_days", "regular_endings"} <= failed
    assert {"implausible:sleepless_days", "implausible:regular_endings", "implausible"} <= set(report.codes)
    assert pool_of(coop_db.settings).footer_counts().total == 0
    # The report explains the verdict without the limits that would tune the next attempt.
    words = " ".join(report.reasons) + " ".join(c.reason + c.threshold for c in report.plausibility.checks)
    assert "limit (" not in words and "needs 60" not in words and "at most" not in words


@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_points_have_diminishing_returns_and_a_bound(before: int, more: int) -> None:
    assert 0 <= scoring.earned(before) < scoring.MEMBER_CAP
    assert scoring.earned(before) <= scoring.earned(before + more) <= scoring.earned(before) + more
    # Concave: the same raw points are worth no more on top of more.
    assert (
        scoring.earned(before + more) - scoring.earned(before)
        >= scoring.earned(2 * before + more) - scoring.earned(2 * before) - 1
    )


def test_invented_plays_cannot_buy_points_in_proportion() -> None:
    # The crude fabrication of a million plays was worth 112,930 raw points: now under the cap, and the first
    # thousand raw points are worth nearly all of themselves.
    assert scoring.earned(112_930) < scoring.MEMBER_CAP and scoring.earned(1_000) == 909
    assert scoring.earned(2 * 112_930) - scoring.earned(112_930) < 1_000
