"""A passed sale's release: built once, by a job, from the members the sale includes, for its buyer only.

When a sale with file delivery is executed (``governance.execution``, the one path a decision takes effect by),
``queue_release`` queues a ``build-release`` job for it; nothing else queues one, and the job refuses any sale
that is not executed. The job:

1. records the release (its key drawn and sealed by the master key, bound to the release's id) and reads the
   members the sale includes *now*: fixed at close, less anyone withdrawn since (``consent.included``); their
   pool files come from the catalog, never those of a contribution held for the stewards;
2. opens the pool with exactly those members' keys on the configured engine (``TUTTI_COOP_ENGINE``), runs the
   recipe the members voted (name, version, parameters) and writes the files and manifest to
   ``releases/<release id>`` under the data folder (whole or not at all);
3. in one transaction: charges the release's privacy spend to the sale's budget (refused if it does not fit),
   records whose data went in and how much (``release_member``), marks the release ready and logs
   ``release-built``. A crash before that commit leaves a folder the next attempt replaces.

A job that gives up marks the release failed and logs ``release-failed`` with a code.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import audit, crypto
from tutti.coop._keywrap import release_key_context, unwrap, wrap
from tutti.coop.engine import PoolSource, PoolTable, open_duckdb, pool_source
from tutti.coop.errors import KeyDestroyed, NotFound
from tutti.coop.governance import consent
from tutti.coop.governance.proposals import EXECUTED, SALE
from tutti.coop.governance.terms import SaleTerms, terms_from
from tutti.coop.jobs import JobFailed, JobKind, JobRun, queue
from tutti.coop.models import Job, Member, Proposal, Release, ReleaseMember, utcnow
from tutti.coop.pool.files import pool_of
from tutti.coop.sales import budget
from tutti.coop.sales.recipes import Recipe, ReleaseTables, recipe_named
from tutti.coop.sales.release import MANIFEST, build_release, watermark, write_release
from tutti.coop.sales.sale import parameters_of
from tutti.coop.settings import CoopSettings

BUILD_JOB = "build-release"
BUILDING, READY, FAILED = "building", "ready", "failed"
RELEASES_DIR = "releases"


def queue_release(session: Session, proposal: Proposal, *, now: datetime | None = None) -> Job | None:
    """In the executing transaction: queue the build of an executed sale's release (file delivery only)."""
    terms = terms_from(proposal.terms)
    if proposal.kind != SALE or not isinstance(terms, SaleTerms) or terms.delivery != "files":
        return None
    return queue.enqueue(session, BUILD_JOB, {"proposal_id": proposal.id}, unique_key=_job_key(proposal.id), now=now)


def _job_key(proposal_id: str) -> str:
    return f"{BUILD_JOB}:{proposal_id}"


def release_key(settings: CoopSettings, release: Release) -> bytes:
    return unwrap(settings.master_key, release.sealed_key, release_key_context(release.id))


def release_folder(settings: CoopSettings, release: Release) -> Path:
    return settings.data_dir / RELEASES_DIR / release.id


def _record(session: Session, settings: CoopSettings, proposal: Proposal, terms: SaleTerms, now: datetime) -> Release:
    """The sale's release row, made once (a retry finds it)."""
    found = session.scalars(select(Release).where(Release.proposal_id == proposal.id)).one_or_none()
    if found is not None:
        return found
    release = Release(
        proposal_id=proposal.id,
        status=BUILDING,
        recipe=terms.recipe.name,
        recipe_version=terms.recipe.version,
        parameters=dict(terms.recipe.parameters),
        created_utc=now,
        expires_utc=(proposal.executed_utc or now) + timedelta(days=terms.duration_days),
        sealed_key=b"",
        watermark="",
    )
    session.add(release)
    session.flush()
    key = os.urandom(32)
    release.sealed_key = wrap(settings.master_key, key, release_key_context(release.id))
    release.watermark = watermark(key)
    session.flush()
    return release


def included_source(session: Session, settings: CoopSettings, proposal: Proposal) -> tuple[PoolSource, dict[str, str]]:
    """The pool files and keys of the members a sale includes now, and their pseudonyms' member ids."""
    return members_source(session, settings, consent.included(session, proposal))


def members_source(
    session: Session, settings: CoopSettings, member_ids: list[str]
) -> tuple[PoolSource, dict[str, str]]:
    """The pool files and keys of these members (those whose key still exists), and their pseudonyms' ids."""
    members = [session.get_one(Member, member_id) for member_id in member_ids]
    keys: dict[str, bytes] = {}
    ids: dict[str, str] = {}
    for member in members:
        try:
            keys[member.pseudonym] = crypto.member_key(session, member, settings)
        except KeyDestroyed:
            continue  # erased meanwhile: never read
        ids[member.pseudonym] = member.id
    source = pool_source(session, pool_of(settings), keys)
    opened = {p: k for p, k in keys.items() if p in source.files}
    return PoolSource(source.root, source.files, opened), {p: ids[p] for p in opened}


@contextlib.contextmanager
def opened_pool(settings: CoopSettings, source: PoolSource, scratch: Path) -> Iterator[PoolTable]:
    """The pool table of ``source`` on the engine the cooperative is set to use."""
    if settings.engine == "spark":
        from tutti.coop.engine.on_spark import open_spark, spark_session

        session = spark_session(settings.spark_master, local_dir=scratch)
        with open_spark(source, session) as table:
            yield table
    else:
        with open_duckdb(source, spill_dir=scratch) as table:
            yield table


def run_recipe(
    settings: CoopSettings, source: PoolSource, recipe: Recipe, params: Any, key: bytes, scratch_name: str
) -> ReleaseTables:
    """``recipe`` over ``source`` on the configured engine, its spill and shuffle files in a scratch folder that is
    removed afterwards whatever happens."""
    scratch = settings.data_dir / "scratch" / scratch_name
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        with opened_pool(settings, source, scratch) as table:
            return build_release(recipe, params, table, key)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def build(run: JobRun) -> None:
    """The ``build-release`` handler (see the module docstring)."""
    settings = run.settings
    proposal_id = str(run.payload["proposal_id"])
    with run.sessions.begin() as session:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None or proposal.kind != SALE or proposal.status != EXECUTED:
            raise JobFailed("not-executed", "only an executed sale has a release")
        terms = terms_from(proposal.terms)
        assert isinstance(terms, SaleTerms)
        release = _record(session, settings, proposal, terms, utcnow())
        release_id, status = release.id, release.status
        if status == READY:
            return
        recipe = recipe_named(terms.recipe.name)
        params = parameters_of(terms)
        key = release_key(settings, release)
        source, member_ids = included_source(session, settings, proposal)
        folder = release_folder(settings, release)
    run.result = {"release_id": release_id}
    shutil.rmtree(folder, ignore_errors=True)  # an attempt that died before its commit
    built = run_recipe(settings, source, recipe, params, key, f"release-{release_id}")
    licence = {
        "duration_days": terms.duration_days,
        "purpose": terms.purpose,
        "no_reidentification": terms.no_reidentification,
        "no_resale": terms.no_resale,
        "delete_at_end": terms.delete_at_end,
    }
    written = write_release(
        folder, built, recipe=recipe, params=params, release_key=key, licence=licence, release_id=release_id
    )
    try:
        with run.settle() as session:
            release = session.get_one(Release, release_id, with_for_update=True)
            now = utcnow()
            budget.charge(session, proposal_id, built.spend, now=now, release_id=release_id)
            for pseudonym, used in sorted(built.used.items()):
                if used > 0:
                    session.add(ReleaseMember(release_id=release_id, member_id=member_ids[pseudonym], used=used))
            release.status = READY
            release.engine = settings.engine
            release.folder = str(folder.relative_to(settings.data_dir))
            release.manifest_sha256 = hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()
            release.members_included = built.members
            release.rows = sum(t.num_rows for t in built.tables.values())
            release.built_utc = now
            session.flush()
            audit.record(
                session,
                audit.ReleaseBuilt(
                    proposal_id=proposal_id,
                    release_id=release_id,
                    recipe=recipe.name,
                    recipe_version=recipe.version,
                    members=built.members,
                    epsilon=built.spend.epsilon,
                    delta=built.spend.delta,
                    manifest_sha256=release.manifest_sha256,
                ),
                now=now,
            )
    except BaseException:
        shutil.rmtree(written.folder, ignore_errors=True)
        raise


def gave_up(session: Session, job: Job) -> None:
    """A build that failed for good: its release is failed (and its files, if any, removed by the next start)."""
    proposal_id = str(job.payload["proposal_id"])
    release = session.scalars(select(Release).where(Release.proposal_id == proposal_id)).one_or_none()
    if release is None or release.status == READY:
        return
    release.status, release.failure = FAILED, (job.error or "failed").partition(":")[0][:64]
    audit.record(session, audit.ReleaseFailed(proposal_id=proposal_id, release_id=release.id, reason=release.failure))


def release_of(session: Session, proposal_id: str) -> Release:
    release = session.scalars(select(Release).where(Release.proposal_id == proposal_id)).one_or_none()
    if release is None:
        raise NotFound("this sale has no release")
    return release


BUILD_RELEASE = JobKind(
    BUILD_JOB,
    "Build a passed sale's release: run its recipe over the members it includes (with their keys only), write the "
    "files and manifest, charge its privacy budget and record whose data went in.",
    handler=build,
    lease=timedelta(minutes=30),
    gave_up=gave_up,
)
