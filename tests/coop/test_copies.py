"""Copies of another member's history, however disguised, earn nothing and hold both sides for the stewards.

Each evasion starts from a real export in ../shared/samples: shifted in time, cut to a period or a random
subset, names with invisible characters, converted to Last.fm scrobbles or to account-data form, three histories
merged, the member's own history re-uploaded shifted. A copy is *held* with what it matched: no points for
either side and nothing of the copy in the pool.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, give, join
from tests.helpers import copies as doctor
from tutti.coop.contributions.report import ContributionReport
from tutti.coop.models import Contribution, ContributionStatus, HistoryShingle, Member
from tutti.coop.pool.files import pool_of

ERIN = ("spotify-account", "hobbies-w-erin")


def pooled(db: CoopDb, member_id: str) -> int:
    with db.sessions() as session:
        pseudonym = session.get_one(Member, member_id).pseudonym
    return pool_of(db.settings).footer_counts().per_member.get(pseudonym, 0)


def status_of(db: CoopDb, contribution_id: str) -> ContributionStatus:
    with db.sessions() as session:
        return session.get_one(Contribution, contribution_id).status


def assert_held_copy(db: CoopDb, copy: ContributionReport, copier: str, *originals: ContributionReport) -> None:
    """The copy and every original it matched are held: no points, nothing of the copy in the pool."""
    assert copy.status is ContributionStatus.HELD, copy.reasons
    assert copy.points == 0 and copy.plays_added == 0 and pooled(db, copier) == 0
    assert copy.copy_check is not None and copy.copy_check.near_copy
    assert copy.reasons and copy.reasons[0].startswith("held for the stewards")
    assert copy.codes in (("held:copy",), ("held:merge",))
    for original in originals:
        assert status_of(db, original.contribution_id) is ContributionStatus.HELD
        with db.sessions() as session:
            row = session.get_one(Contribution, original.contribution_id)
            assert row.score == 0 and row.case_id is not None
            assert pooled(db, row.member_id) == 0  # held: out of the pool until resolved


def _write(records: list[doctor.Record], folder: Path) -> list[Path]:
    return [doctor.write_account(folder, records)]


EVASIONS: dict[str, Callable[[list[doctor.Record], Path], list[Path]]] = {
    "shifted a minute": lambda r, f: _write(doctor.shifted(r, timedelta(minutes=1)), f),
    "shifted an hour": lambda r, f: _write(doctor.shifted(r, timedelta(hours=1)), f),
    "shifted a day": lambda r, f: _write(doctor.shifted(r, timedelta(days=1)), f),
    "a 30 % period": lambda r, f: _write(doctor.time_slice(r, 0.2, 0.30), f),
    "a 45 % period, shifted": lambda r, f: _write(
        doctor.shifted(doctor.time_slice(r, 0.5, 0.45), timedelta(days=3)), f
    ),
    "a random 35 % of the plays": lambda r, f: _write(doctor.random_subset(r, 0.35), f),
    "invisible characters appended": lambda r, f: _write(doctor.invisible(r), f),
    "as Last.fm scrobbles": lambda r, f: [doctor.write_lastfm_csv(f / "scrobbles.csv", r)],
    "as Last.fm scrobbles, shifted an hour": lambda r, f: [
        doctor.write_lastfm_csv(f / "scrobbles.csv", doctor.shifted(r, timedelta(hours=1)))
    ],
}


@pytest.mark.samples
@pytest.mark.parametrize("evasion", list(EVASIONS))
def test_a_disguised_copy_is_held_with_the_original(coop_db: CoopDb, tmp_path: Path, evasion: str) -> None:
    owner, copier = join(coop_db, "owner@example.org"), join(coop_db, "copier@example.org")
    records = doctor.account_records(*ERIN)
    original = give(coop_db, owner, _write(records, tmp_path / "original"))
    assert original.accepted and original.points > 0
    copy = give(coop_db, copier, EVASIONS[evasion](records, tmp_path / "copy"))
    assert_held_copy(coop_db, copy, copier, original)
    assert copy.copy_check is not None and copy.copy_check.matched_member_id == owner


@pytest.mark.samples
def test_an_extended_history_converted_to_account_data_is_held(coop_db: CoopDb, tmp_path: Path) -> None:
    owner, copier = join(coop_db, "mica@example.org"), join(coop_db, "converter@example.org")
    original = give(coop_db, owner, [samples_path("spotify-extended", "mica-92")])
    assert original.accepted
    converted = doctor.extended_to_account(doctor.extended_records("spotify-extended", "mica-92"))
    copy = give(
        coop_db, copier, [doctor.write_account(tmp_path / "copy", doctor.shifted(converted, timedelta(hours=5)))]
    )
    assert_held_copy(coop_db, copy, copier, original)


@pytest.mark.samples
def test_three_members_histories_merged_hold_all_three(coop_db: CoopDb, tmp_path: Path) -> None:
    sources = [ERIN, ("spotify-account", "romainleclair"), ("spotify-extended", "mica-92")]
    members = [join(coop_db, f"member{i}@example.org") for i in range(3)]
    originals = [give(coop_db, m, [samples_path(*s)]) for m, s in zip(members, sources, strict=True)]
    assert all(o.accepted for o in originals), [(o.status, o.reasons) for o in originals]
    merger = join(coop_db, "merger@example.org")
    mica = doctor.extended_to_account(doctor.extended_records(*sources[2]))
    merged = doctor.merged(doctor.account_records(*sources[0]), doctor.account_records(*sources[1]), mica)
    copy = give(coop_db, merger, [doctor.write_account(tmp_path / "merged", merged)])
    assert_held_copy(coop_db, copy, merger, *originals)
    # The merge holds each history (containment the other way round): most of the closest one is in it.
    assert copy.copy_check is not None and copy.copy_check.history_share > copy.copy_check.upload_share


@pytest.mark.samples
def test_the_own_history_re_uploaded_shifted_earns_nothing_new(coop_db: CoopDb, tmp_path: Path) -> None:
    member = join(coop_db, "again@example.org")
    records = doctor.account_records(*ERIN)
    first = give(coop_db, member, _write(records, tmp_path / "first"))
    before = pooled(coop_db, member)
    for n, by in enumerate((timedelta(minutes=1), timedelta(days=1), timedelta(days=400))):
        again = give(coop_db, member, _write(doctor.shifted(records, by), tmp_path / f"again{n}"))
        assert again.accepted and again.plays_added == 0 and again.points == 0, (by, again.plays_added)
    assert first.points > 0 and pooled(coop_db, member) == before == first.plays_added


@pytest.mark.samples
def test_held_and_accepted_histories_are_indexed_and_rejected_ones_are_not(coop_db: CoopDb, tmp_path: Path) -> None:
    member = join(coop_db, "indexed@example.org")
    accepted = give(coop_db, member, [samples_path(*ERIN)])
    rejected = give(coop_db, member, b"[]", "StreamingHistory0.json")
    with coop_db.sessions() as session:
        counted = dict(
            session.execute(
                select(HistoryShingle.contribution_id, func.count()).group_by(HistoryShingle.contribution_id)
            ).all()
        )
    assert counted.get(accepted.contribution_id, 0) > 500 and rejected.contribution_id not in counted
