"""Copy check speed: one upload's shingles, and their lookup in the copy index as the cooperative grows.

Two steps run on every upload: computing its shingles (``fingerprint.shingles``, in the validation job, no
database) and looking its sampled shingles up in the index (``matching.overlaps``, in the deciding transaction,
under the cooperative's lock: the step that must stay short). The look-up is split: ``matching.look`` before the
lock, and under it only the catch-up with what was decided or dropped since (here nothing). The index is filled
with random sampled shingles standing in for members' histories (a lookup costs the same whatever the values),
one member sharing a third of the upload's; the upload is a generated history of ``--plays`` plays. Prints the
median of ``--runs`` of each.

    python benchmarks/fingerprint.py [--members 1000 10000] [--per-member 1500] [--plays 100000] [--runs 5]

Measured (SQLite, 2 shared cores, median of 3): at 10,000 members (15,000,000 indexed shingles) the whole lookup
took 240-261 ms, all of it under the lock before it was split; now 243 ms before the lock and 31 ms under it (at
1,000 members: 223 ms and 35 ms).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tutti.coop.contributions import fingerprint, matching
from tutti.coop.models import AuditEvent, HistoryShingle


def median_ms(step: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def generated_history(plays: int, rng: np.random.Generator) -> pa.Table:
    """Plays of 2,000 tracks, three minutes apart in sessions of 20 with breaks between them."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(minutes=3 * i + 240 * (i // 20)) for i in range(plays)]
    tracks = rng.integers(0, 2_000, plays)
    return pa.table(
        {
            "play_id": [f"p{i}" for i in range(plays)],
            "start_utc": pa.array(moments, pa.timestamp("us", tz="UTC")),
            "end_utc": pa.array([m + timedelta(minutes=3) for m in moments], pa.timestamp("us", tz="UTC")),
            "ms_played": pa.array([180_000] * plays, pa.int64()),
            "artist_key": [f"artist {t % 300}" for t in tracks],
            "track_key": [f"track {t}" for t in tracks],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--per-member", type=int, default=1_500, help="sampled shingles per member's history")
    parser.add_argument("--plays", type=int, default=100_000, help="plays of the upload")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    history = generated_history(args.plays, rng)
    upload = fingerprint.sample(fingerprint.shingles(history))
    print(
        f"shingles of a {args.plays:,}-play upload: median of {args.runs}: "
        f"{median_ms(lambda: fingerprint.shingles(history), args.runs):.0f} ms ({len(upload):,} sampled)"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "index.sqlite"
        engine = create_engine(f"sqlite:///{path}")
        HistoryShingle.__table__.create(engine)  # type: ignore[attr-defined]
        AuditEvent.__table__.create(engine)  # type: ignore[attr-defined]
        filled = 0
        for members in args.members:
            with sqlite3.connect(path) as con:
                for member in range(filled, members):
                    values = rng.integers(-(2**63), 2**63 - 1, args.per_member, dtype=np.int64).tolist()
                    if member == 0:
                        values[: len(upload) // 3] = fingerprint.to_signed(upload[: len(upload) // 3])
                    rows = [(f"c{member}", v, f"m{member}") for v in set(values)]
                    con.executemany(
                        "INSERT INTO history_shingle (contribution_id, shingle, member_id) VALUES (?, ?, ?)", rows
                    )
            filled = members
            with Session(engine) as session:
                found = matching.overlaps(session, "uploader", upload)
                took = median_ms(lambda: matching.overlaps(session, "uploader", upload), args.runs)
                looked = matching.look(session, "uploader", upload)
                looking = median_ms(lambda: matching.look(session, "uploader", upload), args.runs)
                caught = median_ms(partial(matching.overlaps, session, "uploader", upload, looked), args.runs)
            assert found and found[0].member_id == "m0", "the member holding a third of the upload is found"
            assert matching.overlaps(Session(engine), "uploader", upload, looked) == found
            print(
                f"{members:>9,} members, {members * args.per_member:,} indexed shingles: matching.overlaps "
                f"median of {args.runs}: {took:.0f} ms (closest shares {found[0].upload_share:.0%} of the upload); "
                f"split: matching.look before the lock {looking:.0f} ms, the catch-up under it {caught:.0f} ms"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
