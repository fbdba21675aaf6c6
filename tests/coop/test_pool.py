"""The pool: play identities as the local store makes them, per-member encrypted Parquet, counts and erasure."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import samples_path
from tests.helpers.fabrications import PADDING
from tutti.coop.contributions.reading import read_upload
from tutti.coop.pool.contract import POOL_SCHEMA, play_identity
from tutti.coop.pool.files import MemberCounts, Pool
from tutti.store import open_store
from tutti.store.ingest import import_paths


def store_ids(path: Path, home: Path) -> set[str]:
    with open_store(home) as store:
        import_paths(store, "me", [path])
        return {row[0] for row in store.con.execute("SELECT play_id FROM plays").fetchall()}


@pytest.mark.samples
@pytest.mark.parametrize(
    "sample",
    ["spotify-account/fedecalendino-2021-01", "spotify-extended/candidlyred", "lastfm/pingw33n"],
)
def test_play_ids_are_the_ids_the_local_store_gives(sample: str, tmp_path: Path) -> None:
    # Minute-precision repeats (fedecalendino, pingw33n) and second-precision twins (candidlyred) included.
    path = samples_path(*sample.split("/"))
    rows = play_identity(read_upload([path]).table)
    ids = rows.column("play_id").to_pylist()
    assert len(ids) == len(set(ids))
    assert set(ids) == store_ids(path, tmp_path / "home")


def rows_of(path: Path) -> pa.Table:
    return play_identity(read_upload([path]).table)


@pytest.fixture
def pool(tmp_path: Path) -> Pool:
    return Pool(tmp_path / "pool")


def test_a_member_reads_back_exactly_what_was_written(pool: Pool) -> None:
    rows, key = rows_of(PADDING), os.urandom(32)
    written = pool.write("a1b2", "c-1", rows, key)
    assert written.path == pool.root / "member=a1b2" / "part-c-1.parquet"
    assert (written.rows, written.bytes) == (150, written.path.stat().st_size)
    assert pool.member_table("a1b2", key).equals(rows)


def test_pool_files_are_unreadable_without_the_members_key(pool: Pool) -> None:
    rows, key = rows_of(PADDING), os.urandom(32)
    path = pool.write("a1b2", "c-1", rows, key).path
    # Names are not in the clear anywhere in the file, and neither pyarrow nor a wrong key opens it.
    assert b"Velkaro" not in path.read_bytes() and b"Mori Quodra" not in path.read_bytes()
    with pytest.raises(OSError):
        pq.read_table(path)
    with pytest.raises(KeyError):
        pool.member_table("a1b2", os.urandom(32))


def test_footer_counts_read_plain_footers_and_removal_empties_the_member(pool: Pool) -> None:
    rows = rows_of(PADDING)
    pool.write("a1", "c-1", rows, os.urandom(32))
    pool.write("a1", "c-2", rows.slice(0, 10), os.urandom(32))
    pool.write("b2", "c-3", rows.slice(0, 20), os.urandom(32))
    counts = pool.footer_counts()
    assert counts.per_member == {"a1": 160, "b2": 20} and counts.total == 180
    assert pool.remove_member("a1") == 2
    assert not (pool.root / "member=a1").exists()
    assert pool.footer_counts().per_member == {"b2": 20}
    assert pool.remove_member("a1") == 0


def test_a_members_counts_need_no_key_and_read_only_their_files(pool: Pool) -> None:
    rows, key = rows_of(PADDING), os.urandom(32)
    assert pool.member_footer_counts("a1") == MemberCounts(plays=0, files=0)
    pool.write("a1", "c-1", rows, key)
    pool.write("a1", "c-2", rows.slice(0, 10), key)
    # Another member's file that no key opens: it is never read for a1's counts.
    pool.member_dir("b2").mkdir()
    (pool.member_dir("b2") / "part-c-3.parquet").write_bytes(b"not parquet")
    counts = pool.member_footer_counts("a1")
    assert counts == MemberCounts(plays=160, files=2)
    share = pool.member_share("a1", key, counts)
    assert (share.plays, share.files) == (160, 2)
    assert sum(share.by_source.values()) == 160 and list(share.by_source) == sorted(
        share.by_source, key=lambda s: -share.by_source[s]
    )
    moments = [r["start_utc"] or r["end_utc"] for r in pool.member_table("a1", key).to_pylist()]
    assert (share.first_play_utc, share.last_play_utc) == (min(moments), max(moments))


def test_duckdb_queries_the_decrypted_pool_with_a_member_column(pool: Pool) -> None:
    rows = rows_of(PADDING)
    keys = {"a1": os.urandom(32), "b2": os.urandom(32)}
    pool.write("a1", "c-1", rows, keys["a1"])
    pool.write("b2", "c-2", rows.slice(0, 40), keys["b2"])
    con = pool.connect(keys)
    try:
        result = con.sql("SELECT member, count(*), count(DISTINCT track) FROM pool GROUP BY member ORDER BY member")
        assert result.fetchall() == [("a1", 150, 1), ("b2", 40, 1)]
    finally:
        con.close()
    # Only the members whose keys are given are visible.
    only = pool.connect({"b2": keys["b2"]})
    try:
        assert only.sql("SELECT count(*) FROM pool").fetchall() == [(40,)]
    finally:
        only.close()


def test_pool_schema_has_no_identifying_column() -> None:
    forbidden = {"source_file", "record_index", "platform_raw", "ip_addr", "user_agent", "username", "email"}
    assert not forbidden & set(POOL_SCHEMA.names)
    assert POOL_SCHEMA.names[0] == "play_id"


def test_pseudonyms_cannot_walk_out_of_the_pool(pool: Pool) -> None:
    with pytest.raises(ValueError):
        pool.member_dir("../etc")
