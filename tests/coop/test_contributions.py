"""Contributing exports on SQLite and PostgreSQL: real exports accepted, copies and fabrications rejected, refreshes."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, events, give, join
from tests.helpers.fabrications import doctored_overlaps, mica_records, write_records, zip_folder
from tutti.coop import audit, crypto
from tutti.coop.contributions.queries import (
    contribution_of,
    member_contributions,
    pool_share,
    report_of,
)
from tutti.coop.errors import NotAllowed, NotFound
from tutti.coop.models import Contribution, ContributionStatus, Member, Status
from tutti.coop.pool.files import pool_of
from tutti.model import PLAY_SCHEMA


@pytest.mark.samples
def test_real_exports_are_accepted_and_pooled(coop_db: CoopDb, tmp_path: Path) -> None:
    mica, erin, ping = (
        join(coop_db, "mica@example.org"),
        join(coop_db, "erin@example.org"),
        join(coop_db, "p@example.org"),
    )
    zipped = zip_folder(samples_path("spotify-account", "hobbies-w-erin", "Spotify Account Data"), tmp_path / "e.zip")
    reports = {
        mica: give(coop_db, mica, [samples_path("spotify-extended", "mica-92")]),
        erin: give(coop_db, erin, zipped.read_bytes(), "my_spotify_data.zip"),
        ping: give(coop_db, ping, [samples_path("lastfm", "pingw33n", "lastfm_scrobbles.csv")]),
    }
    for report in reports.values():
        assert report.accepted, report.reasons
        assert report.reasons == () and report.plausibility is not None and report.plausibility.passed
        assert report.plays_added == report.plays_distinct > 0 and report.points > 0
    assert reports[erin].files[0].name.startswith("my_spotify_data.zip!Spotify Account Data/")
    with coop_db.sessions() as session:
        counts = pool_of(coop_db.settings).footer_counts()
        for member_id, report in reports.items():
            member = session.get_one(Member, member_id)
            assert counts.per_member[member.pseudonym] == report.plays_added
            row = session.get_one(Contribution, report.contribution_id)
            assert row.status is ContributionStatus.ACCEPTED and row.plays_added == report.plays_added
            assert row.score == report.points and row.case_id is None
            # The kept copy opens with the member's key and holds the plays as read, nothing identifying.
            assert row.blob_path is not None
            sealed = (coop_db.settings.data_dir / row.blob_path).read_bytes()
            as_read = pq.read_table(
                io.BytesIO(crypto.decrypt_blob(crypto.member_key(session, member, coop_db.settings), sealed))
            )
            assert as_read.num_rows == report.plays_read and as_read.schema == PLAY_SCHEMA
        accepted = [audit.load_event(e) for e in events(session, "contribution-accepted")]
        assert all(isinstance(e, audit.ContributionAccepted) for e in accepted)
        logged = {(e.member_id, e.plays_added) for e in accepted if isinstance(e, audit.ContributionAccepted)}
        assert logged == {(m, r.plays_added) for m, r in reports.items()}
        assert audit.verify_chain(session) == (True, None)


@pytest.mark.samples
def test_a_copy_of_another_members_export_is_held_with_the_original(coop_db: CoopDb) -> None:
    owner, copier = join(coop_db, "owner@example.org"), join(coop_db, "copier@example.org")
    export = samples_path("spotify-extended", "mica-92")
    original = give(coop_db, owner, [export])
    assert original.accepted
    report = give(coop_db, copier, [export])
    assert report.status is ContributionStatus.HELD and report.plays_added == 0 and report.points == 0
    assert report.copy_check is not None and report.copy_check.near_copy and report.copy_check.similarity == 1.0
    assert report.copy_check.matched_member_id == owner
    shown = report.for_member().copy_check
    assert shown is not None and shown.matched_member_id is None
    with coop_db.sessions() as session:
        per_member = pool_of(coop_db.settings).footer_counts().per_member
        assert session.get_one(Member, copier).pseudonym not in per_member
        assert session.get_one(Member, owner).pseudonym not in per_member  # held: out of the pool, no points
        rows = [session.get_one(Contribution, c) for c in (original.contribution_id, report.contribution_id)]
        assert {r.status for r in rows} == {ContributionStatus.HELD} and rows[0].case_id == rows[1].case_id
        assert all(r.blob_path is not None for r in rows)  # the evidence, sealed
        held = [audit.load_event(e) for e in events(session, "contribution-held")]
        assert {(e.member_id, e.contribution_id) for e in held if isinstance(e, audit.ContributionHeld)} == {
            (owner, original.contribution_id),
            (copier, report.contribution_id),
        }


@pytest.mark.samples
def test_a_held_copy_is_in_the_audit_log_with_ids_only(coop_db: CoopDb) -> None:
    owner, copier = join(coop_db, "original@example.org"), join(coop_db, "mirror@example.org")
    export = [samples_path("spotify-extended", "mica-92")]
    assert give(coop_db, owner, export).accepted
    report = give(coop_db, copier, export)
    assert report.held
    with coop_db.sessions() as session:
        rows = events(session, "contribution-held")
        mine = [r for r in rows if r.member_id == copier]
        assert len(rows) == 2 and len(mine) == 1
        assert set(orjson.loads(mine[0].payload)) == {"member_id", "contribution_id", "case_id"}
        assert owner not in mine[0].payload
        assert audit.verify_chain(session) == (True, None)
    # Accepted uploads and other rejections raise no flag.
    assert give(coop_db, copier, b"[]", "StreamingHistory0.json").status is ContributionStatus.REJECTED
    with coop_db.sessions() as session:
        assert len(events(session, "contribution-held")) == 2


def test_the_audit_log_keeps_a_similarity_as_a_finite_number(coop_db: CoopDb) -> None:
    with coop_db.sessions() as session:
        flagged = audit.record(session, audit.ContributionFlagged("m1", "c1", 0.97))
        assert flagged.payload == '{"contribution_id":"c1","member_id":"m1","similarity":0.97}'
        with pytest.raises(TypeError, match="similarity"):
            audit.record(session, audit.ContributionFlagged("m1", "c1", float("nan")))


@pytest.mark.samples
def test_the_same_member_uploading_again_adds_nothing(coop_db: CoopDb) -> None:
    member = join(coop_db, "twice@example.org")
    export = [samples_path("spotify-extended", "mica-92")]
    first, second = give(coop_db, member, export), give(coop_db, member, export)
    assert first.accepted and second.accepted
    assert second.plays_added == 0 and second.points == 0
    assert pool_of(coop_db.settings).footer_counts().total == first.plays_added


@pytest.mark.samples
def test_a_doctored_export_with_impossible_overlaps_never_enters_the_pool(coop_db: CoopDb, tmp_path: Path) -> None:
    member = join(coop_db, "doctor@example.org")
    folder = write_records(
        tmp_path / "upload", "Streaming_History_Audio_2024_4.json", doctored_overlaps(mica_records())
    )
    report = give(coop_db, member, [folder])
    assert report.status is ContributionStatus.REJECTED
    assert any(r.startswith("implausible: overfull_hours:") for r in report.reasons)
    assert any(r.startswith("implausible: overlapping_playback:") for r in report.reasons)
    assert pool_of(coop_db.settings).footer_counts().total == 0
    with coop_db.sessions() as session:
        row = session.get_one(Contribution, report.contribution_id)
        assert row.status is ContributionStatus.REJECTED and row.blob_path is None
        # In the clear only codes; the worded reasons are sealed with the member's key.
        assert {"implausible:overfull_hours", "implausible:overlapping_playback"} <= set(row.reasons)
        assert report_of(session, row).reasons == report.reasons


def raw_records(folder: Path) -> Counter[tuple[str, str, str, int]]:
    """Account-data records counted by their recorded fields, straight from the JSON files."""
    counted: Counter[tuple[str, str, str, int]] = Counter()
    for path in folder.glob("StreamingHistory*.json"):
        for r in orjson.loads(path.read_bytes()):
            counted[(r["endTime"], r["artistName"], r["trackName"], r["msPlayed"])] += 1
    return counted


@pytest.mark.samples
def test_a_refresh_adds_and_scores_only_its_new_plays(coop_db: CoopDb) -> None:
    member = join(coop_db, "fede@example.org")
    older = samples_path("spotify-account", "fedecalendino-2020-11")
    newer = samples_path("spotify-account", "fedecalendino-2021-01")
    first, refresh = give(coop_db, member, [older]), give(coop_db, member, [newer])
    assert first.accepted and refresh.accepted, refresh.reasons
    # Independently: records of the newer export beyond the same records of the older one, counted in the JSON.
    increment = sum((raw_records(newer / "MyData") - raw_records(older / "MyData")).values())
    assert refresh.plays_added == increment == 7_388
    assert refresh.plays_distinct == 84_630 > refresh.plays_added
    assert refresh.score is not None
    volume = next(item for item in refresh.score.items if item.name == "volume")
    assert volume.points == increment // 100
    assert pool_of(coop_db.settings).footer_counts().total == first.plays_added + increment


def test_unreadable_and_empty_uploads_are_rejected_with_the_reason(coop_db: CoopDb) -> None:
    member = join(coop_db, "broken@example.org")
    damaged = give(coop_db, member, b"PK\x03\x04" + b"\x00" * 64, "my_spotify_data.zip")
    assert damaged.status is ContributionStatus.REJECTED
    assert damaged.reasons[0].startswith("the upload cannot be read: my_spotify_data.zip: is not a readable zip")
    empty = give(coop_db, member, b"[]", "StreamingHistory0.json")
    assert empty.reasons == ("the upload holds no plays Tutti can read",)


@pytest.mark.samples
def test_only_active_members_contribute(coop_db: CoopDb) -> None:
    member = join(coop_db, "late@example.org")
    with coop_db.sessions.begin() as session:
        session.get_one(Member, member).status = Status.WAITLISTED
    with pytest.raises(NotAllowed):
        give(coop_db, member, [samples_path("spotify-extended", "efrrowini")])


@pytest.mark.samples
def test_a_members_own_contributions_and_pool_share(coop_db: CoopDb) -> None:
    mine, theirs = join(coop_db, "own@example.org"), join(coop_db, "other@example.org")
    with coop_db.sessions() as session:
        empty = pool_share(session, coop_db.settings, session.get_one(Member, mine))
        assert (empty.plays, empty.files, empty.by_source, empty.first_play_utc) == (0, 0, {}, None)
    first = give(coop_db, mine, [samples_path("spotify-extended", "efrrowini")])
    second = give(coop_db, mine, b"[]", "StreamingHistory0.json")
    other = give(coop_db, theirs, [samples_path("lastfm", "pingw33n", "lastfm_scrobbles.csv")])
    with coop_db.sessions() as session:
        member = session.get_one(Member, mine)
        listed = member_contributions(session, member)
        assert {c.id for c in listed} == {first.contribution_id, second.contribution_id}
        assert all(c.member_id == mine for c in listed)
        assert contribution_of(session, member, first.contribution_id).plays_added == first.plays_added
        for foreign in (other.contribution_id, "no-such-id"):
            with pytest.raises(NotFound, match="no such contribution"):
                contribution_of(session, member, foreign)
        share = pool_share(session, coop_db.settings, member)
        assert (share.plays, share.files) == (first.plays_added, 1)
        assert share.by_source == {"spotify_extended": first.plays_added}
        assert share.first_play_utc is not None and share.last_play_utc is not None
        assert share.first_play_utc <= share.last_play_utc
