"""A running cooperative under a burst of uploads, for the load test and ``benchmarks/load.py``.

``running_cooperative`` founds a cooperative with ``tutti coop init`` (SQLite, or a PostgreSQL URL), makes
members with API tokens, and runs ``tutti coop serve`` (no workers inside) and ``tutti coop worker`` processes,
as an operator would. ``burst`` sends every upload at once, asks another page once a tenth of a second
meanwhile and until every upload is decided, then reads from the database how each upload was validated.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tutti.coop.db import make_engine, session_factory
from tutti.coop.members import accounts
from tutti.coop.members import tokens as tokens_of
from tutti.coop.models import AuditEvent, Contribution, ContributionStatus, Job, JobStatus
from tutti.coop.settings import load_coop_settings

PASSWORD = "a long enough passphrase"
TUTTI = Path(sys.executable).with_name("tutti")
# An upload's own decision is one of these. A copy held for the stewards also holds what it matched: that
# earlier contribution then has its verdict and a hold, still one validation.
VERDICTS = ("contribution-accepted", "contribution-rejected")
DECISIONS = (*VERDICTS, "contribution-held")
PROBE_EVERY = 0.1
WORKING = "working for the cooperative"  # what ``tutti coop worker`` says once its workers run

Export = list[tuple[str, bytes]]  # one upload: its files' names and bytes
_Probed = tuple[list[tuple[float, float]], list[str]]  # (seconds into the burst, seconds taken); failures


def exports_in(root: Path) -> list[Export]:
    """Each folder of ``root`` holding files is one export, uploaded as its files (names made distinct)."""
    found = []
    for folder in sorted({p.parent for p in root.rglob("*") if p.is_file() and not p.name.endswith(".md")}):
        files = sorted(p for p in folder.iterdir() if p.is_file())
        if any(f.parent == folder for f in files):
            found.append([(f"{n}-{f.name}", f.read_bytes()) for n, f in enumerate(files)])
    return found


@dataclass
class Cooperative:
    """The running server's address, its members' API tokens and a session factory on its database."""

    url: str
    tokens: list[str]
    sessions: sessionmaker[Session]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(workdir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTTI_")}
    env.update(
        TUTTI_HOME=str(workdir / "home"),
        TUTTI_COOP_DIR=str(workdir / "coop"),
        TUTTI_DATABASE_URL=database_url,
        TUTTI_STEWARD_PASSWORD=PASSWORD,
        TUTTI_COOP_CAPACITY="10000",
        TUTTI_COOP_WORKERS="0",
        # The cheapest hash allowed outside tests: signing up the members is not what is measured.
        TUTTI_COOP_PASSWORD_TIME_COST="1",
        TUTTI_COOP_PASSWORD_MEMORY_KIB="8192",
    )
    return env


@contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


def _wait_until_working(logs: Path, workers: list[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(worker.poll() is not None for worker in workers):
            raise RuntimeError("a worker exited")
        if logs.read_text(errors="replace").count(WORKING) >= len(workers):
            return
        time.sleep(0.2)
    raise RuntimeError("the workers did not start")


@contextmanager
def running_cooperative(workdir: Path, database_url: str, *, members: int, workers: int = 1) -> Iterator[Cooperative]:
    """A founded cooperative with ``members`` members (and their tokens) and its server and workers running."""
    env = _environment(workdir, database_url)
    subprocess.run(
        [str(TUTTI), "coop", "init", "--name", "Load test", "--steward-email", "steward@example.org"],
        env=env,
        check=True,
        capture_output=True,
    )
    with _environ(env):
        settings = load_coop_settings()
    engine = make_engine(database_url)
    sessions = session_factory(engine, settings)
    tokens = []
    with sessions.begin() as session:
        for n in range(members):
            member = accounts.signup(session, f"member{n}@example.org", PASSWORD)
            # Uploading, and reading the contributions page while the burst goes on.
            scopes = (tokens_of.CONTRIBUTE.name, tokens_of.READ.name)
            tokens.append(tokens_of.create_api_token(session, member, name="load", scopes=scopes)[1])
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    logs = (workdir / "logs.txt").open("ab")
    server = subprocess.Popen(
        [str(TUTTI), "coop", "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=logs, stderr=logs
    )
    running = Cooperative(url, tokens, sessions, [server])
    try:
        _wait_until_up(url, server)
        for _ in range(workers):
            running.processes.append(
                subprocess.Popen([str(TUTTI), "coop", "worker"], env=env, stdout=logs, stderr=logs)
            )
        # The burst begins once the workers work: a process starting up (imports, migrations checked, leftovers
        # looked for) is not what is measured.
        _wait_until_working(workdir / "logs.txt", running.processes[1:])
        yield running
    finally:
        for process in running.processes:
            process.send_signal(signal.SIGINT)
        for process in running.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        logs.close()
        engine.dispose()


@dataclass
class Burst:
    """What a burst of uploads measured; latencies in seconds."""

    upload_seconds: list[float]
    errors: list[str]
    contribution_ids: list[str]
    probe_seconds: list[float]
    probe_failures: list[str]
    slow_probes: list[tuple[float, float]]  # (seconds into the burst, seconds taken) of answers of 1 s or more
    decided_after: float
    statuses: Counter[str]
    decisions: Counter[str]  # contribution id -> decision events in the log (verdicts and holds)
    verdicts: Counter[str]  # contribution id -> accepted or rejected events in the log
    job_attempts: Counter[int]
    jobs_not_done: int

    @property
    def validated_once(self) -> int:
        return sum(1 for cid in self.contribution_ids if self.decisions[cid] >= 1 and self.verdicts[cid] <= 1)

    def summary(self) -> str:
        def figures(values: Sequence[float]) -> str:
            if not values:
                return "none"
            ordered = sorted(values)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            return f"median {statistics.median(ordered):.3f} s, p95 {p95:.3f} s, max {ordered[-1]:.3f} s"

        slow = ", ".join(f"{took:.1f} s at {at:.0f} s" for at, took in self.slow_probes) or "none"
        return "\n".join(
            [
                f"  uploads: {len(self.upload_seconds)} sent, {len(self.errors)} errors; answered in "
                + figures(self.upload_seconds),
                f"  other page: {len(self.probe_seconds)} requests, {len(self.probe_failures)} failed; "
                + figures(self.probe_seconds)
                + f"; 1 s or more: {slow}",
                f"  validation: every upload decided {self.decided_after:.1f} s after the burst began; "
                f"{dict(self.statuses)}; validated exactly once: {self.validated_once} of "
                f"{len(self.contribution_ids)}; job attempts {dict(self.job_attempts)}; jobs not done: "
                f"{self.jobs_not_done}",
            ]
        )


async def _upload(client: httpx.AsyncClient, token: str, export: Export) -> tuple[float, str | None, str | None]:
    started = time.monotonic()
    try:
        response = await client.post(
            "/api/contributions",
            files=[("files", (name, data)) for name, data in export],
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.HTTPError as exc:
        return time.monotonic() - started, None, f"{type(exc).__name__}: {exc}"
    took = time.monotonic() - started
    if response.status_code != 202:
        return took, None, f"{response.status_code}: {response.text[:200]}"
    return took, str(response.json()["contribution_id"]), None


def _probe(url: str, token: str, stop: threading.Event, began: float, timeout: float) -> _Probed:
    """Ask for the contributions page every ``PROBE_EVERY`` seconds until ``stop``; in a thread of its own, so
    that what is timed is the server's answer, not this process's own event loop busy sending the uploads."""
    seconds, failures = [], []
    with httpx.Client(base_url=url, timeout=timeout) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = client.get("/api/contributions", headers={"Authorization": f"Bearer {token}"})
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
            except httpx.HTTPError as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            seconds.append((started - began, time.monotonic() - started))
            stop.wait(PROBE_EVERY)
    return seconds, failures


def _pending(sessions: sessionmaker[Session], ids: list[str]) -> int:
    with sessions() as session:
        statuses = session.scalars(select(Contribution.status).where(Contribution.id.in_(ids))).all()
    return sum(1 for s in statuses if s is ContributionStatus.PENDING) + len(ids) - len(statuses)


async def burst(cooperative: Cooperative, exports: Sequence[Export], *, prober: str, timeout: float = 1800) -> Burst:
    """Upload ``exports[i]`` as member ``i``, all at once, while ``prober`` (a token) asks for its own
    contributions every tenth of a second until every upload is decided."""
    started = time.monotonic()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    stop = threading.Event()
    probing = asyncio.create_task(asyncio.to_thread(_probe, cooperative.url, prober, stop, started, timeout))
    async with httpx.AsyncClient(base_url=cooperative.url, timeout=timeout, limits=limits) as uploader:
        sent = await asyncio.gather(
            *(_upload(uploader, token, export) for token, export in zip(cooperative.tokens, exports, strict=False))
        )
        ids = [cid for _s, cid, _e in sent if cid is not None]
        while await asyncio.to_thread(_pending, cooperative.sessions, ids) and time.monotonic() - started < timeout:
            await asyncio.sleep(0.5)
        decided_after = time.monotonic() - started
        stop.set()
        probe_seconds, probe_failures = await probing
    with cooperative.sessions() as session:
        rows = session.scalars(select(Contribution).where(Contribution.id.in_(ids))).all()
        jobs = session.scalars(select(Job).where(Job.id.in_([r.job_id for r in rows if r.job_id is not None]))).all()
        events = session.execute(
            select(AuditEvent.kind, AuditEvent.payload).where(AuditEvent.kind.in_(DECISIONS))
        ).all()
    decisions = Counter(str(orjson.loads(p)["contribution_id"]) for _kind, p in events)
    verdicts = Counter(str(orjson.loads(p)["contribution_id"]) for kind, p in events if kind in VERDICTS)
    return Burst(
        upload_seconds=[s for s, _cid, _e in sent],
        errors=[e for _s, _cid, e in sent if e is not None],
        contribution_ids=ids,
        probe_seconds=[took for _at, took in probe_seconds],
        slow_probes=[(at, took) for at, took in probe_seconds if took >= 1],
        probe_failures=probe_failures,
        decided_after=decided_after,
        statuses=Counter(r.status.value for r in rows),
        decisions=decisions,
        verdicts=verdicts,
        job_attempts=Counter(j.attempts for j in jobs),
        jobs_not_done=sum(1 for j in jobs if j.status is not JobStatus.DONE) + len(rows) - len(jobs),
    )
