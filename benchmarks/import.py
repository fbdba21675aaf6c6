"""Import rate of Spotify extended history, compared with the raw JSON parse rate of the same files.

Generates an export in Spotify's real shape (23-key records, ~16k per pretty-printed file) once, then runs,
several times each and interleaved: (a) reading and ``orjson.loads`` of every file, (b) a full ``tutti import``
of the folder into a fresh store file. Prints medians and their ratio; machines here are shared and noisy, so
the ratio of medians taken in the same run is the figure to quote.

    python benchmarks/import.py [--plays 1000000] [--runs 5] [--data DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from tutti.demo import write_extended_export
from tutti.store import open_store
from tutti.store.ingest import import_paths


def _export(folder: Path, plays: int) -> list[Path]:
    marker = folder / f".complete-{plays}"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        write_extended_export(folder, plays)
        marker.touch()
        print(f"generated {plays:,} plays in {time.perf_counter() - started:.1f} s")
    return sorted(folder.glob("*.json"))


def _parse(files: list[Path]) -> tuple[float, int]:
    started = time.perf_counter()
    records = 0
    for file in files:
        records += len(orjson.loads(file.read_bytes()))
    return time.perf_counter() - started, records


def _import(folder: Path, scratch: Path) -> tuple[float, int]:
    home = scratch / "home"
    shutil.rmtree(home, ignore_errors=True)
    with open_store(home) as store:
        started = time.perf_counter()
        [report] = import_paths(store, "bench", [folder])
        elapsed = time.perf_counter() - started
    # Every record is accounted for: stored plays plus counted skips (private-session plays).
    return elapsed, report.plays_read + sum(report.skipped.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "tutti-bench-extended")
    args = parser.parse_args()

    files = _export(args.data / str(args.plays), args.plays)
    size = sum(f.stat().st_size for f in files)
    print(f"{len(files)} files, {size / 1e6:,.0f} MB, {args.plays:,} plays")
    parse_rates: list[float] = []
    import_rates: list[float] = []
    with tempfile.TemporaryDirectory(prefix="tutti-bench-") as tmp:
        for run in range(1, args.runs + 1):
            parse_s, records = _parse(files)
            import_s, read = _import(files[0].parent, Path(tmp))
            assert read == records, (read, records)
            parse_rates.append(records / parse_s)
            import_rates.append(read / import_s)
            print(
                f"run {run}: parse {parse_rates[-1]:>10,.0f} records/s   import {import_rates[-1]:>10,.0f} plays/s"
                f"   ratio {import_rates[-1] / parse_rates[-1]:.2f}"
            )
    parse_median = statistics.median(parse_rates)
    import_median = statistics.median(import_rates)
    ratios = [i / p for i, p in zip(import_rates, parse_rates, strict=True)]
    print(f"median parse rate  (orjson.loads): {parse_median:,.0f} records/s")
    print(f"median import rate (tutti import): {import_median:,.0f} plays/s")
    print(f"ratio of medians: {import_median / parse_median:.2f}", end="   ")
    print(f"median of per-run ratios: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
