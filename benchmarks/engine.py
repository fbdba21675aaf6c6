"""The pool engine at scale: each member's top artists over a synthetic pool, on DuckDB and on Spark local, both
through ``tutti.coop.engine`` (encrypted files, the members' keys), against a bare DuckDB query written by hand
over the same rows as unencrypted Parquet.

The pool is written by the pool's own writer (one encrypted file per member) and, beside it, as plain Parquet;
plays are drawn at once with numpy (member sizes log-normal, artists Zipf-distributed, one play in ten spelled
in capitals). Every measurement runs in a fresh process, so its peak resident memory (the JVM's counted for
Spark) is its own. Prints the median wall time and peak memory of each, and their ratio to the bare query.

    python benchmarks/engine.py [--plays 1e8] [--members 20000] [--repeats 3] [--dir PATH] [--no-spark]

Measured at full scale (1e8 plays of 20,000 members, 20,000 encrypted files) on a shared 2-core machine with two
other people's work running (load average about 6): bare DuckDB 32.3 s (median of 3, peak 2.9 GiB), the engine on
DuckDB 76.7 s (median of 3, 2.37x, peak 4.8 GiB), the engine on Spark local[2] 300 s (one run, 9.3x, peak 6.9 GiB
with the JVM's). Generating the pool took 453 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tutti.coop.engine import PoolSource, open_duckdb, top_artists
from tutti.coop.pool.contract import POOL_SCHEMA
from tutti.coop.pool.files import Pool

TOP = 10
ARTISTS = 200_000
BATCH_ROWS = 2_000_000
COUNTRIES = np.array(["DE", "FR", "GB", "JP", "US", "BR", "SE", "NL"])
BARE_SQL = f"""
WITH spellings AS (
    SELECT member, artist_key, artist, count(*) AS uses
    FROM read_parquet(?, hive_partitioning = true)
    WHERE artist_key IS NOT NULL
    GROUP BY ALL
),
artists AS (
    SELECT member, artist_key, artist, sum(uses) OVER (PARTITION BY member, artist_key) AS plays,
           row_number() OVER (PARTITION BY member, artist_key ORDER BY uses DESC, artist) AS spelling
    FROM spellings
    QUALIFY spelling = 1
)
SELECT member, row_number() OVER (PARTITION BY member ORDER BY plays DESC, artist_key) AS rank,
       artist_key, artist, plays
FROM artists
QUALIFY rank <= {TOP}
"""


def catalogue() -> tuple[pa.Array, pa.Array, pa.Array]:
    names = pa.array([f"Artist {i:06d} Band" for i in range(ARTISTS)])
    return names, pc.utf8_upper(names), pc.utf8_lower(names)


def member_rows(rng: np.random.Generator, plays: int, members: int) -> np.ndarray:
    sizes = rng.lognormal(0.0, 1.0, members)
    counts = np.floor(sizes / sizes.sum() * plays).astype(np.int64)
    counts[: plays - int(counts.sum())] += 1
    return counts


def plays_table(rng: np.random.Generator, n: int, names: pa.Array, upper: pa.Array, keys: pa.Array) -> pa.Table:
    """``n`` pool rows of one member, every column drawn at once."""
    artist = pa.array(np.minimum(rng.zipf(1.3, n), ARTISTS) - 1)
    capitals = pa.array(rng.random(n) < 0.1)
    start = rng.integers(1_420_070_400_000_000, 1_735_689_600_000_000, n)
    ids = pc.binary_join_element_wise(
        pc.cast(pa.array(rng.integers(0, 2**63, n)), pa.string()),
        pc.cast(pa.array(rng.integers(0, 2**63, n)), pa.string()),
        "-",
    )
    columns = {
        "play_id": ids,
        "source": pa.array(np.full(n, "spotify_extended")),
        "start_utc": pa.array(start, pa.timestamp("us", tz="UTC")),
        "end_utc": pa.array(start + 200_000_000, pa.timestamp("us", tz="UTC")),
        "ms_played": pa.array(rng.integers(0, 300_000, n)),
        "time_precision": pa.array(np.full(n, "second")),
        "content_kind": pa.array(np.full(n, "music")),
        "platform": pa.array(np.full(n, "android")),
        "artist": pc.if_else(capitals, upper.take(artist), names.take(artist)),
        "artist_key": keys.take(artist),
        "country": pa.array(COUNTRIES[rng.integers(0, len(COUNTRIES), n)]),
    }
    return pa.table([columns.get(f.name, pa.nulls(n, f.type)) for f in POOL_SCHEMA], schema=POOL_SCHEMA)


def generate(folder: Path, plays: int, members: int) -> dict[str, str]:
    """The encrypted pool under ``folder/pool`` and its plain twin under ``folder/plain``; the keys (hex)."""
    rng = np.random.default_rng(1)
    names, upper, lower = catalogue()
    pool = Pool(folder / "pool")
    keys = {f"m{i:06d}": os.urandom(32) for i in range(members)}
    for (pseudonym, key), n in zip(keys.items(), member_rows(rng, plays, members), strict=True):
        table = plays_table(rng, int(n), names, upper, lower)
        pool.write(pseudonym, "c-1", table, key)
        plain = folder / "plain" / f"member={pseudonym}"
        plain.mkdir(parents=True)
        pq.write_table(table, plain / "part-c-1.parquet", compression="zstd")
    return {p: k.hex() for p, k in keys.items()}


def source_of(folder: Path) -> PoolSource:
    keys = {p: bytes.fromhex(k) for p, k in json.loads((folder / "keys.json").read_text()).items()}
    pool = Pool(folder / "pool")
    return PoolSource(pool.root, {p: tuple(pool.files(p)) for p in keys}, keys)


def run_once(kind: str, folder: Path) -> None:
    """One measurement in this process; prints seconds, peak resident bytes and result rows as JSON."""
    started = time.perf_counter()
    jvm_peak_kib = 0
    if kind == "bare":
        con = duckdb.connect()
        rows = con.sql(BARE_SQL, params=[str(folder / "plain" / "*" / "*.parquet")]).to_arrow_table().num_rows
    elif kind == "duckdb":
        with open_duckdb(source_of(folder)) as table:
            rows = table.to_pyarrow(top_artists(table.table, TOP)).num_rows
    else:
        from tutti.coop.engine.on_spark import open_spark, spark_session

        session = spark_session("local[2]", config={"spark.driver.memory": "6g"}, local_dir=folder / "spark")
        started = time.perf_counter()  # the JVM's start is not the query's
        with open_spark(source_of(folder), session) as table:
            rows = table.to_pyarrow(top_artists(table.table, TOP)).num_rows
        jvm_peak_kib = peak_kib(session.sparkContext._gateway.proc.pid)  # the JVM's, before it stops
        session.stop()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + jvm_peak_kib
    print(json.dumps({"seconds": seconds, "peak_bytes": peak * 1024, "rows": rows}))


def peak_kib(pid: int) -> int:
    """A process's peak resident memory (Linux: VmHWM), KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measure(kind: str, folder: Path, repeats: int, script: str = __file__) -> tuple[float, float, int]:
    """Median seconds, peak bytes and rows of ``repeats`` runs of ``script --run kind``, each in a fresh process."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, script, "--run", kind, "--dir", str(folder)], check=True, capture_output=True, text=True
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    rows = {r["rows"] for r in runs}
    assert len(rows) == 1, f"{kind} returned different row counts: {rows}"
    return statistics.median(r["seconds"] for r in runs), max(r["peak_bytes"] for r in runs), rows.pop()


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
    folder = args.dir or Path(tempfile.mkdtemp(prefix="tutti-engine-bench-"))
    try:
        if not (folder / "keys.json").exists():
            started = time.perf_counter()
            keys = generate(folder, int(args.plays), args.members)
            (folder / "keys.json").write_text(json.dumps(keys))
            print(
                f"generated {int(args.plays):,} plays of {args.members:,} members "
                f"in {time.perf_counter() - started:.0f} s"
            )
        results = {"bare": measure("bare", folder, args.repeats), "duckdb": measure("duckdb", folder, args.repeats)}
        if not args.no_spark:
            results["spark"] = measure("spark", folder, args.spark_repeats)
        assert len({rows for _, _, rows in results.values()}) == 1, "the engines disagree on the number of rows"
        bare = results["bare"][0]
        for kind, (seconds, peak, rows) in results.items():
            label = {
                "bare": "bare DuckDB, plain Parquet",
                "duckdb": "engine on DuckDB",
                "spark": "engine on Spark local[2]",
            }
            print(
                f"{label[kind]:<28} median {seconds:8.2f} s  peak {peak / 2**30:5.2f} GiB  "
                f"{seconds / bare:5.2f}x bare  ({rows:,} rows)"
            )
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
