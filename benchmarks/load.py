"""A burst of uploads against a running cooperative: 100 members upload real exports at the same moment.

For each database (SQLite in a scratch folder; PostgreSQL at 127.0.0.1:5432, database ``test``, in a schema
of its own), founds a cooperative, starts ``tutti coop serve`` and ``tutti coop worker`` as processes, and has
every member upload one export at once (the real samples in ../shared/samples, taken in turn; without them,
the synthetic fixtures of tests/data) while one more member asks for their contributions page every tenth of a
second, until every upload is validated. Prints the upload answers' and the other page's latencies (median,
p95, max), the errors, and how each upload was validated (the log's decisions per upload, the jobs' attempts).

    python benchmarks/load.py [--uploads 100] [--workers 1] [--databases sqlite postgresql]

Measured (2 cores shared with other work, 100 uploads of 275 MiB, 1 worker), the other page's answers: SQLite
median 0.013 s, p95 0.092 s, max 0.633 s; PostgreSQL median 0.025 s, p95 0.102 s, max 0.300 s; none of 1 s or
more, 0 errors, every upload validated once, every job done. Before upload bodies were written on threads of
their own and uploads handled a few at a time: max 8.8 s (SQLite) and 8.1 s (PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared harness lives with the tests

from tests.helpers.load import burst, exports_in, running_cooperative

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_schema() -> tuple[str, str]:
    schema = f"bench_load_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema, f"{POSTGRES}?options=-csearch_path%3D{schema}"


def _drop(schema: str) -> None:
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def run(database: str, uploads: int, workers: int) -> None:
    exports = exports_in(SAMPLES) if SAMPLES.is_dir() else exports_in(ROOT / "tests" / "data")
    chosen = [exports[n % len(exports)] for n in range(uploads)]
    size = sum(len(data) for export in chosen for _name, data in export)
    with tempfile.TemporaryDirectory(prefix="tutti-bench-load-") as scratch:
        workdir = Path(scratch)
        schema = None
        url = f"sqlite:///{workdir / 'coop.sqlite'}"
        if database == "postgresql":
            schema, url = _postgres_schema()
        try:
            with running_cooperative(workdir, url, members=uploads + 1, workers=workers) as cooperative:
                prober = cooperative.tokens.pop()
                result = asyncio.run(burst(cooperative, chosen, prober=prober))
        finally:
            if schema is not None:
                _drop(schema)
    print(
        f"{database}: {uploads} simultaneous uploads of {len(exports)} exports in turn "
        f"({size / 1024**2:.0f} MiB in all), {workers} worker process(es)"
    )
    print(result.summary())
    if result.errors:
        print("  first errors:", *result.errors[:5], sep="\n    ")
    if result.probe_failures:
        print("  first failures of the other page:", *result.probe_failures[:5], sep="\n    ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    for database in args.databases:
        run(database, args.uploads, args.workers)


if __name__ == "__main__":
    main()
