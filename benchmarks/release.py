"""The artist-preferences release at scale: the recipe's engine half and its finishing (k floor, spellings,
release pseudonyms) over a synthetic pool, on DuckDB and on Spark local, through ``tutti.coop.engine`` (encrypted
files, the members' keys), against a bare DuckDB query of the same aggregate written by hand over the same rows as
unencrypted Parquet (no k floor, no pseudonyms).

The pool is the one ``benchmarks/engine.py`` writes (``--dir`` of a pool it made is reused, or a new one is made
with its generator). Every measurement runs in a fresh process, so its peak resident memory (the JVM's counted
for Spark) is its own. Prints the median wall time and peak memory of each, and their ratio to the bare query.
The goal is the DuckDB release within 2x of the bare query.

    python benchmarks/release.py [--plays 1e8] [--members 20000] [--repeats 3] [--dir PATH] [--no-spark]

Measured at full scale (1e8 plays of 20,000 members, the engine benchmark's pool) on a shared 2-core machine. With
the release reading the pool once (an intermediate kept by the engine), on a quiet machine: bare DuckDB 50.3 s,
the release on DuckDB 36.8 s (0.73x, peak 6.5 GiB; medians of 3). Under load from other work (load average about
10): bare 171.7 s, the release on DuckDB 290.6 s (1.69x), on Spark local[2] 564.2 s (3.29x, one run, peak 6.7
GiB). Before the single scan, the release read the pool twice: 3.77x on DuckDB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import generate, measure, peak_kib, source_of

from tutti.coop.engine import open_duckdb
from tutti.coop.sales.recipes import ArtistPreferences, ArtistPreferencesParameters
from tutti.coop.sales.release import build_release

TOP = 20
PARAMS = ArtistPreferencesParameters(top=TOP, k=10)
BARE_SQL = f"""
WITH per AS (
    SELECT member, artist_key, sum(least(greatest(coalesce(ms_played, 0), 0), {15 * 60 * 1000})) AS ms
    FROM read_parquet(?, hive_partitioning = true)
    WHERE content_kind = 'music' AND artist_key IS NOT NULL AND coalesce(start_utc, end_utc) IS NOT NULL
    GROUP BY ALL
),
shared AS (
    SELECT *, sum(ms) OVER (PARTITION BY member) AS member_ms FROM per
)
SELECT member, row_number() OVER (PARTITION BY member ORDER BY ms DESC, artist_key) AS rank, artist_key,
       round(ms / member_ms, 2) AS share
FROM shared
WHERE member_ms > 0
QUALIFY rank <= {TOP}
"""


def run_once(kind: str, folder: Path) -> None:
    """One measurement in this process; prints seconds, peak resident bytes and result rows as JSON."""
    started = time.perf_counter()
    jvm_peak_kib = 0
    key = os.urandom(32)
    if kind == "bare":
        con = duckdb.connect()
        rows = con.sql(BARE_SQL, params=[str(folder / "plain" / "*" / "*.parquet")]).to_arrow_table().num_rows
    elif kind == "duckdb":
        with open_duckdb(source_of(folder)) as table:
            rows = build_release(ArtistPreferences(), PARAMS, table, key).tables["artist_preferences"].num_rows
    else:
        from tutti.coop.engine.on_spark import open_spark, spark_session

        session = spark_session("local[2]", config={"spark.driver.memory": "6g"}, local_dir=folder / "spark")
        started = time.perf_counter()  # the JVM's start is not the release's
        with open_spark(source_of(folder), session) as table:
            rows = build_release(ArtistPreferences(), PARAMS, table, key).tables["artist_preferences"].num_rows
        jvm_peak_kib = peak_kib(session.sparkContext._gateway.proc.pid)
        session.stop()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + jvm_peak_kib
    print(json.dumps({"seconds": seconds, "peak_bytes": peak * 1024, "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plays", type=float, default=1e8)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--spark-repeats", type=int, default=1)
    parser.add_argument("--dir", type=Path, help="where the pool is (kept); a temporary folder by default")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--run", choices=["bare", "duckdb", "spark"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_once(args.run, args.dir)
        return
    folder = args.dir or Path(tempfile.mkdtemp(prefix="tutti-release-bench-"))
    try:
        if not (folder / "keys.json").exists():
            keys = generate(folder, int(args.plays), args.members)
            (folder / "keys.json").write_text(json.dumps(keys))
        results = {kind: measure(kind, folder, args.repeats, __file__) for kind in ("bare", "duckdb")}
        if not args.no_spark:
            results["spark"] = measure("spark", folder, args.spark_repeats, __file__)
        bare = results["bare"][0]
        label = {
            "bare": "bare DuckDB query",
            "duckdb": "release on DuckDB",
            "spark": "release on Spark local[2]",
        }
        for kind, (seconds, peak, rows) in results.items():
            print(
                f"{label[kind]:<26} median {seconds:8.2f} s  peak {peak / 2**30:5.2f} GiB  "
                f"{seconds / bare:5.2f}x bare  ({rows:,} rows)"
            )
        print(
            "(the release leaves out artists in fewer than k members' lists, so it has fewer rows than the bare query)"
        )
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
