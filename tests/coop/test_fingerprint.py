"""Fingerprints: pairs of tracks played close together, blind to the clock and to how names are spelled.

How fast an upload is compared with every member's history is measured by benchmarks/fingerprint.py, not here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import samples_path
from tutti.coop.contributions import fingerprint as fp
from tutti.coop.contributions.reading import read_upload
from tutti.coop.pool.contract import play_identity

SAMPLES = [
    ("spotify-extended", "mica-92"),
    ("spotify-extended", "candidlyred"),
    ("spotify-account", "hobbies-w-erin"),
    ("spotify-account", "romainleclair"),
    ("lastfm", "aleex-cs"),
    ("lastfm", "mbartoli"),
    ("lastfm", "pingw33n"),
    ("apple-music", "vietvudanh"),
    ("youtube-music", "tunaerol"),
]


def plays(*parts: str) -> pa.Table:
    return play_identity(read_upload([samples_path(*parts)]).table)


def shifted(table: pa.Table, by: timedelta) -> pa.Table:
    for name in ("start_utc", "end_utc"):
        index = table.schema.get_field_index(name)
        moved = pc.add(table.column(name), pa.scalar(by, pa.duration("us")))
        table = table.set_column(index, table.schema.field(index), moved.cast(table.schema.field(index).type))
    return table


@pytest.mark.samples
def test_distinct_people_share_almost_nothing_either_way() -> None:
    prints = {parts[1]: fp.shingles(plays(*parts)) for parts in SAMPLES}
    shares = [fp.contained(prints[a], prints[b]) for a in prints for b in prints if a != b]
    assert max(shares) < 0.05, max(shares)
    assert all(len(p) > 0 for p in prints.values())


@pytest.mark.samples
def test_shifts_leave_the_shingles_unchanged() -> None:
    table = plays("spotify-account", "hobbies-w-erin")
    base = fp.shingles(table)
    for by in (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(days=-365)):
        assert fp.shingles(shifted(table, by)).tolist() == base.tolist()


@pytest.mark.samples
def test_a_random_subset_lies_inside_the_original() -> None:
    table = plays("spotify-account", "hobbies-w-erin")
    keep = pa.array(np.random.default_rng(4).random(table.num_rows) < 0.35)
    part = fp.shingles(table.filter(keep))
    assert fp.contained(part, fp.shingles(table)) == 1.0 and len(part) > 1000


@pytest.mark.samples
def test_a_history_shifted_is_all_known_and_a_newer_export_is_mostly_new() -> None:
    older, newer = plays("spotify-account", "fedecalendino-2020-11"), plays("spotify-account", "fedecalendino-2021-01")
    own = fp.shingles(older)
    paired, known = fp.known_plays(shifted(older, timedelta(days=2)), own)
    assert pc.sum(known).as_py() == pc.sum(paired).as_py() > 50_000
    new_by_id = pc.invert(pc.is_in(newer.column("play_id"), value_set=older.column("play_id")))
    paired, known = fp.known_plays(newer, own)
    familiar = pc.sum(pc.and_(known, new_by_id)).as_py() / pc.sum(pc.and_(paired, new_by_id)).as_py()
    assert familiar < 0.45


def _table(names: list[str], minutes: list[int]) -> pa.Table:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    raw = {
        "play_id": [f"p{i}" for i in range(len(names))],
        "start_utc": [start + timedelta(minutes=m) for m in minutes],
        "end_utc": [start + timedelta(minutes=m, seconds=200) for m in minutes],
        "ms_played": [200_000] * len(names),
        "artist_key": ["artist"] * len(names),
        "track_key": names,
    }
    return pa.table(raw)


def test_names_are_compared_by_their_keys_and_order_does_not_matter() -> None:
    table = _table(["a", "b", "c", "d"], [0, 4, 8, 30])
    base = fp.shingles(table)
    assert len(base) == 3  # a-b, a-c, b-c: d is alone in its window
    assert fp.shingles(table.take([3, 2, 1, 0])).tolist() == base.tolist()
    assert fp.shingles(_table(["a [live]", "b", "c", "d"], [0, 4, 8, 30])).tolist() == base.tolist()


@given(st.lists(st.integers(0, 2**64 - 1), max_size=50))
def test_shingles_survive_the_database_unchanged(values: list[int]) -> None:
    hashes = np.array(values, dtype=np.uint64)
    assert fp.from_signed(fp.to_signed(hashes)).tolist() == hashes.tolist()
    assert all(-(2**63) <= v < 2**63 for v in fp.to_signed(hashes))
    kept = fp.sample(hashes)
    assert all(v % fp.SAMPLE_EVERY == 0 for v in kept.tolist())
