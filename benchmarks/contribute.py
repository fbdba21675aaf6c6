"""Contribution speed: validating and pooling one large Spotify extended history, end to end.

Generates an export in Spotify's real shape once (``tutti.demo.write_extended_export``), then, several times,
has a new member contribute it to a cooperative on SQLite in a scratch folder (and withdraw after the run),
timing ``contribute`` (read with the importers, consistency, plausibility, fingerprint and copy check, identity,
scoring, sealed copy, encrypted pool file, database rows and audit events) and, separately, each validation
stage on its own; then the same export as the server takes it: the upload request (sealing the files, storing
them, queueing the job) and the validation job a worker runs. Prints medians and plays per second.

The demo's invented listener is implausible in ways the checks see: podcast episodes report eight times the
time that passes before the next play, and plays spread evenly over six devices. The benchmark shortens the
episodes to what the clock allows and puts nine plays in ten on one phone, so that the upload is accepted and
its pooling is measured too (the listener still never sleeps: one tolerated oddity).

    python benchmarks/contribute.py [--plays 200000] [--runs 5] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import orjson
from sqlalchemy.orm import Session, sessionmaker

from tutti.coop import crypto
from tutti.coop.bootstrap import create_cooperative
from tutti.coop.contributions import plausibility, uploads, validation
from tutti.coop.contributions.consistency import consistency
from tutti.coop.contributions.fingerprint import fingerprint
from tutti.coop.contributions.pipeline import contribute
from tutti.coop.contributions.reading import read_upload
from tutti.coop.contributions.validation import VALIDATE_CONTRIBUTION
from tutti.coop.db import make_engine, session_factory, upgrade
from tutti.coop.jobs.worker import Worker
from tutti.coop.members import accounts
from tutti.coop.members.withdrawal import withdraw
from tutti.coop.models import Member
from tutti.coop.pool.contract import play_identity
from tutti.coop.pool.files import pool_of
from tutti.coop.scratch import scratch_folder
from tutti.coop.settings import CoopSettings
from tutti.demo import write_extended_export

T = TypeVar("T")


def _export(folder: Path, plays: int) -> Path:
    marker = folder / f".complete-{plays}"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_extended_export(folder, plays)
        for path in folder.glob("*.json"):
            records = orjson.loads(path.read_bytes())
            for i, record in enumerate(records):
                if record["episode_name"]:
                    record["ms_played"] //= 8
                if i % 10:
                    record["platform"] = "android"
            path.write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))
        marker.touch()
    return folder


def _timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _stages(export: Path) -> dict[str, float]:
    read_s, upload = _timed(lambda: read_upload([export]))
    table = upload.table
    identity_s, rows = _timed(lambda: play_identity(table))
    return {
        "read (importers)": read_s,
        "consistency": _timed(lambda: consistency(table))[0],
        "plausibility": _timed(lambda: plausibility.check(table, implausible_records=upload.implausible))[0],
        "identity": identity_s,
        "fingerprint": _timed(lambda: fingerprint(rows))[0],
    }


def _member(sessions: sessionmaker[Session], email: str) -> str:
    with sessions.begin() as session:
        return accounts.signup(session, email, "a long enough passphrase").id


def _withdraw(sessions: sessionmaker[Session], settings: CoopSettings, member_id: str) -> None:
    with sessions.begin() as session:
        withdraw(session, settings, session.get_one(Member, member_id))


def _submit(sessions: sessionmaker[Session], settings: CoopSettings, member_id: str, files: list[Path]) -> None:
    """What ``POST /api/contributions`` does once the files are saved."""
    with sessions.begin() as session:
        member = session.get_one(Member, member_id)
        key = crypto.member_key(session, member, settings)
    with scratch_folder(settings, "upload-") as scratch:
        sealed = uploads.seal(files, key, scratch / "sealed")
        with sessions.begin() as session:
            validation.submit(session, settings, session.get_one(Member, member_id), sealed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plays", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "tutti-bench-contribute")
    args = parser.parse_args()
    export = _export(args.data / "export", args.plays)
    with tempfile.TemporaryDirectory(prefix="tutti-bench-coop-") as scratch:
        root = Path(scratch)
        settings = CoopSettings(root / "coop", f"sqlite:///{root / 'coop.sqlite'}", os.urandom(32), os.urandom(32))
        engine = make_engine(settings.database_url)
        upgrade(engine)
        sessions = session_factory(engine, settings)
        with sessions.begin() as session:
            create_cooperative(session, settings, "Benchmark cooperative")
        totals: list[float] = []
        requests: list[float] = []
        background: list[float] = []
        stages: dict[str, list[float]] = {}
        plays = points = 0
        for run in range(args.runs):
            member_id = _member(sessions, f"bench{run}@example.org")
            with sessions.begin() as session:
                member = session.get_one(Member, member_id)
                started = time.perf_counter()
                report = contribute(session, settings, member, [export])
                elapsed = time.perf_counter() - started
            if not report.accepted:
                raise SystemExit(f"the benchmark export was rejected: {report.reasons}")
            # The next member uploads the same export: withdraw this one, or it would be a near-copy.
            pooled = pool_of(settings).footer_counts()
            _withdraw(sessions, settings, member_id)
            totals.append(elapsed)
            plays, points = report.plays_added, report.points
            # The same export the way the server takes it now: the request stores it, a worker validates it.
            queued_id = _member(sessions, f"queued{run}@example.org")
            files = sorted(export.glob("*.json"))
            request_s, _ = _timed(partial(_submit, sessions, settings, queued_id, files))
            worker = Worker(sessions, settings, [VALIDATE_CONTRIBUTION])
            worker_s, ran = _timed(worker.drain)
            assert ran == 1
            _withdraw(sessions, settings, queued_id)
            requests.append(request_s)
            background.append(worker_s)
            for name, seconds in _stages(export).items():
                stages.setdefault(name, []).append(seconds)
        engine.dispose()
    median = statistics.median(totals)
    print(f"export: {args.plays:,} records, {plays:,} plays pooled per contribution, {points:,} points")
    print(f"contribute (validate + pool), median of {args.runs}: {median:.2f} s = {plays / median:,.0f} plays/s")
    runs = ", ".join(f"{t:.2f}" for t in totals)
    print(f"  runs: {runs} s; the pool held {pooled.total:,} rows of {len(pooled.per_member)} member after each")
    print(
        f"upload request (seal, store, queue), median: {statistics.median(requests):.2f} s; "
        f"its validation job: {statistics.median(background):.2f} s"
    )
    for name, values in stages.items():
        print(f"  {name:<18} {statistics.median(values):6.2f} s")


if __name__ == "__main__":
    main()
