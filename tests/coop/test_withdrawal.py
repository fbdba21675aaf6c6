"""A member's rights over their data, on SQLite and PostgreSQL: take a copy of it all (export), or take it back."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from tests.conftest import samples_path
from tests.coop.conftest import NOW, CoopDb, give, join
from tutti.coop import audit, crypto
from tutti.coop.contributions.queries import report_of
from tutti.coop.contributions.report import erased
from tutti.coop.errors import DecryptionFailed, KeyDestroyed, NotAllowed
from tutti.coop.members.data_export import export_member_data
from tutti.coop.members.withdrawal import withdraw
from tutti.coop.models import Contribution, Member, MemberKey, Status
from tutti.coop.pool import catalog
from tutti.coop.pool.files import Pool, pool_of


@pytest.mark.samples
def test_withdrawal_erases_the_members_plays_and_proves_it(coop_db: CoopDb, tmp_path: Path) -> None:
    leaving, staying = join(coop_db, "leaving@example.org"), join(coop_db, "staying@example.org")
    report = give(coop_db, leaving, [samples_path("spotify-extended", "mica-92")])
    kept = give(coop_db, staying, [samples_path("spotify-extended", "candidlyred")])
    with coop_db.sessions() as session:
        member = session.get_one(Member, leaving)
        pseudonym, key = member.pseudonym, crypto.member_key(session, member, coop_db.settings)
        blob = coop_db.settings.data_dir / str(session.get_one(Contribution, report.contribution_id).blob_path)
    # Copies made before withdrawal (a backup, say) stay unreadable once the key is gone.
    backup = tmp_path / "backup"
    shutil.copytree(pool_of(coop_db.settings).member_dir(pseudonym), Pool(backup).member_dir(pseudonym))
    shutil.copy(blob, backup / "upload.blob")
    assert crypto.decrypt_blob(key, (backup / "upload.blob").read_bytes())

    with coop_db.sessions() as session:
        proof = withdraw(session, coop_db.settings, session.get_one(Member, leaving), now=NOW)
    assert proof.member_rows_before == report.plays_added and proof.member_rows_after == 0
    assert proof.pool_rows_before == report.plays_added + kept.plays_added
    assert proof.pool_rows_after == kept.plays_added
    assert (proof.pool_files_removed, proof.blobs_destroyed) == (1, 1)
    assert proof.key_destroyed and proof.erased and proof.excluded_from_sales and proof.status == "withdrawn"
    assert not blob.exists()

    with coop_db.sessions() as session:
        member = session.get_one(Member, leaving)
        assert member.status is Status.WITHDRAWN and member.password_hash is None
        assert (member.email_sealed, member.email_lookup, member.plain_email) == (None, None, None)
        assert session.scalars(select(MemberKey.wrapped_key).where(MemberKey.member_id == leaving)).one() is None
        with pytest.raises(KeyDestroyed):
            crypto.member_key(session, member, coop_db.settings)
        row = session.get_one(Contribution, report.contribution_id)
        assert row.fingerprint is None and row.blob_path is None
        # The report is blanked down to when it was erased.
        assert report_of(session, row) == erased(row.id, row.status, report_of(session, row).erased_utc or NOW)
        assert report_of(session, row).erased_utc is not None and report_of(session, row).plays_read == 0
        kinds = [e.kind for e in audit.events_about(session, leaving)]
        assert kinds[-2:] == ["member-withdrew", "key-destroyed"]
        # The one key that opened the copies is gone from the database; any other key fails on them.
        with pytest.raises(DecryptionFailed):
            crypto.decrypt_blob(crypto.new_data_key(), (backup / "upload.blob").read_bytes())
        with pytest.raises(KeyError):
            Pool(backup).member_table(pseudonym, crypto.new_data_key())
        assert Pool(backup).footer_counts().per_member == {pseudonym: report.plays_added}
        pool = pool_of(coop_db.settings)
        assert pseudonym not in pool.footer_counts().per_member
        # The catalog lost the member's rows with the files, and agrees with the folder.
        assert catalog.counts(session).per_member == {session.get_one(Member, staying).pseudonym: kept.plays_added}
        assert catalog.reconcile(session, pool).consistent
        con = pool.connect(
            {
                session.get_one(Member, staying).pseudonym: crypto.member_key(
                    session, session.get_one(Member, staying), coop_db.settings
                )
            }
        )
        try:
            assert con.sql("SELECT count(*), count(DISTINCT member) FROM pool").fetchall() == [(kept.plays_added, 1)]
        finally:
            con.close()


@pytest.mark.samples
def test_withdrawn_members_can_do_nothing_more(coop_db: CoopDb, tmp_path: Path) -> None:
    member_id = join(coop_db, "gone@example.org")
    with coop_db.sessions() as session:
        withdraw(session, coop_db.settings, session.get_one(Member, member_id), now=NOW)
    with pytest.raises(NotAllowed):
        give(coop_db, member_id, [samples_path("spotify-extended", "efrrowini")])
    with coop_db.sessions.begin() as session, pytest.raises(NotAllowed):
        export_member_data(session, coop_db.settings, session.get_one(Member, member_id), tmp_path / "x.zip")


@pytest.mark.samples
def test_a_near_copy_no_longer_matches_a_withdrawn_member(coop_db: CoopDb) -> None:
    first, second = join(coop_db, "first@example.org"), join(coop_db, "second@example.org")
    export = [samples_path("spotify-extended", "mica-92")]
    assert give(coop_db, first, export).accepted
    with coop_db.sessions() as session:
        withdraw(session, coop_db.settings, session.get_one(Member, first), now=NOW)
    assert give(coop_db, second, export).accepted


@pytest.mark.samples
def test_a_member_exports_everything_held_about_them(coop_db: CoopDb, tmp_path: Path) -> None:
    member_id = join(coop_db, "me@example.org")
    accepted = give(coop_db, member_id, [samples_path("spotify-extended", "mica-92")])
    rejected = give(coop_db, member_id, b"[]", "StreamingHistory0.json")
    out = tmp_path / "mine.zip"
    with coop_db.sessions.begin() as session:
        result = export_member_data(session, coop_db.settings, session.get_one(Member, member_id), out, now=NOW)
    assert (result.plays, result.contributions) == (accepted.plays_added, 2)
    with zipfile.ZipFile(out) as archive:
        assert set(archive.namelist()) == {
            "plays.jsonl",
            "plays.parquet",
            "contributions.json",
            "audit.json",
            "member.json",
            "governance.json",
            "money.json",
        }
        listens = [orjson.loads(line) for line in archive.read("plays.jsonl").splitlines()]
        table = pq.read_table(io.BytesIO(archive.read("plays.parquet")))
        contributions = orjson.loads(archive.read("contributions.json"))
        log = orjson.loads(archive.read("audit.json"))
        record = orjson.loads(archive.read("member.json"))
    assert len(listens) == table.num_rows == accepted.plays_added
    first = listens[0]
    assert set(first) == {"listened_at", "track_metadata"}
    assert first["track_metadata"]["additional_info"]["tutti_play_id"] == table.column("play_id")[0].as_py()
    assert [c["status"] for c in contributions] == ["accepted", "rejected"]
    assert contributions[0]["plays_added"] == accepted.plays_added and contributions[0]["report"]["plausibility"]
    assert [e["kind"] for e in log] == [
        "member-joined",
        "member-admitted",
        "contribution-accepted",
        "contribution-rejected",
        "member-exported",
    ]
    assert record["email"] == "me@example.org" and record["id"] == member_id
    assert "password_hash" not in record and all("argon2" not in str(v) for v in record.values())
    assert rejected.contribution_id == contributions[1]["id"]
