"""Founding a cooperative: its database, master key, log signing key, first policy and first steward.

``tutti coop init`` is ``init_cooperative``; tests found one in a fresh database with ``found_cooperative``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tutti.coop import audit, rotation
from tutti.coop._keywrap import new_signing_key
from tutti.coop.audit import transparency
from tutti.coop.db import display_url, make_engine, session_factory, upgrade
from tutti.coop.errors import ConfigError, Conflict, InvalidInput
from tutti.coop.jobs import housekeeping
from tutti.coop.members import accounts, emails, withdrawal
from tutti.coop.members.passwords import check_password
from tutti.coop.models import GENESIS_HASH, Cooperative, Member, OnboardingPolicy, Role, Status, utcnow
from tutti.coop.settings import (
    MASTER_KEY,
    MASTER_KEY_FILE,
    STEWARD_PASSWORD,
    CoopSettings,
    check_existing_master_key,
    data_dir_for,
    database_url_for,
    db_connections,
    load_coop_settings,
)

MAX_NAME = 200


@dataclass(frozen=True)
class Founded:
    """What ``tutti coop init`` made; ``database`` has any password masked."""

    name: str
    database: str
    data_dir: Path
    master_key: str
    steward_id: str
    log_key: str


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidInput(f"the cooperative needs a name of 1 to {MAX_NAME} characters")
    return cleaned


def existing_name(session: Session) -> str | None:
    return session.scalars(select(Cooperative.name)).first()


def create_cooperative(session: Session, settings: CoopSettings, name: str, *, now: datetime | None = None) -> None:
    """The cooperative row (with a new signing key), the founding onboarding policy and the log's first link."""
    found = existing_name(session)
    if found is not None:
        raise Conflict(f"this database already holds the cooperative {found!r}; it is founded once")
    when = now or utcnow()
    public, wrapped = new_signing_key(settings.master_key)
    session.add(
        Cooperative(
            id=1,
            name=_check_name(name),
            created_utc=when,
            signing_public_key=public,
            signing_key_wrapped=wrapped,
            audit_seq=0,
            audit_head=GENESIS_HASH,
        )
    )
    session.add(OnboardingPolicy(capacity_per_day=settings.onboarding_capacity, changed_by=None, changed_utc=when))
    session.flush()
    audit.record(session, audit.CooperativeFounded(name=name.strip()), now=when)
    transparency.pin_verifier_key(session, settings)


def found_cooperative(
    session: Session,
    settings: CoopSettings,
    *,
    name: str,
    steward_email: str,
    steward_password: str,
    now: datetime | None = None,
) -> Member:
    """Create the cooperative and its first steward, active at once (founding is not subject to the waitlist)."""
    when = now or utcnow()
    create_cooperative(session, settings, name, now=when)
    steward = accounts.create_member(session, steward_email, steward_password, role=Role.STEWARD, now=when)
    steward.status = Status.ACTIVE
    steward.activated_utc = when
    session.flush()
    audit.record(session, audit.MemberJoined(member_id=steward.id, waitlisted=False), now=when)
    audit.record(session, audit.MemberAdmitted(member_id=steward.id), now=when)
    audit.record(session, audit.RoleChanged(member_id=steward.id, role=Role.STEWARD.value, changed_by=None), now=when)
    transparency.make_checkpoint(session, settings, now=when)
    return steward


def init_cooperative(
    home: Path | None,
    database_url: str | None,
    *,
    name: str,
    steward_email: str,
    password: Callable[[], str],
) -> Founded:
    """Migrate the database, refuse if it already holds a cooperative, then make keys, cooperative and steward.

    The steward's password comes from TUTTI_STEWARD_PASSWORD, else from ``password()``, which is asked only once
    the database is known to be fresh and the other inputs are valid.
    """
    data_dir = data_dir_for(home)
    url = database_url_for(data_dir, database_url)
    _check_name(name)
    accounts.normalise_email(steward_email)
    engine = make_engine(url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            found = existing_name(session)
        if found is not None:
            raise Conflict(f"{display_url(url)} already holds the cooperative {found!r}; init runs once")
        check_existing_master_key(home)
        secret = os.environ.get(STEWARD_PASSWORD.env) or password()
        check_password(secret, email=steward_email)
        settings = load_coop_settings(home, database_url, create_key=True)
        with session_factory(engine, settings).begin() as session:
            steward = found_cooperative(
                session, settings, name=name, steward_email=steward_email, steward_password=secret
            )
            log_key = transparency.database_verifier_key(session).text()
    finally:
        engine.dispose()
    key_source = MASTER_KEY.env if MASTER_KEY.env in os.environ else str(settings.data_dir / MASTER_KEY_FILE)
    return Founded(
        name=name.strip(),
        database=display_url(url),
        data_dir=data_dir,
        master_key=key_source,
        steward_id=steward.id,
        log_key=log_key,
    )


@dataclass(frozen=True)
class Running:
    """A founded cooperative made ready to run: its settings, its database engine (dispose it) and its name."""

    settings: CoopSettings
    engine: Engine
    name: str


def open_cooperative(home: Path | None, database_url: str | None) -> Running:
    """Everything the server, the workers and the operator's commands do before they start, in order: migrate
    the database, refuse one that holds no cooperative, settle a master-key rotation a crash interrupted, load the
    settings, refuse a master key that is not the one the keys are wrapped with, seal what older releases stored
    in plain (``emails.seal_plain_rows``), complete the withdrawals a crash interrupted, remove what crashed work
    left beside the database (``housekeeping.remove_leftovers``), keep the log's key pinned and sign a checkpoint
    of the log as it is."""
    data_dir = data_dir_for(home)
    url = database_url_for(data_dir, database_url)
    engine = make_engine(url, connections=db_connections())
    try:
        upgrade(engine)
        with Session(engine) as session:
            name = existing_name(session)
        if name is None:
            raise ConfigError(f"{display_url(url)} holds no cooperative yet; found one with `tutti coop init`")
        rotation.settle(engine, data_dir)
        settings = load_coop_settings(home, database_url)
        sessions = session_factory(engine, settings)
        with sessions.begin() as session:
            rotation.check_key_matches(session, settings.master_key)
            sealed = emails.seal_plain_rows(session, settings)
        if sealed:
            withdrawal.scrub(engine)  # the plain text leaves the WAL (and PostgreSQL's dead rows) too
        with sessions() as session:
            withdrawal.complete_pending(session, settings)
        with sessions.begin() as session:
            housekeeping.remove_leftovers(session, settings)
            transparency.pin_verifier_key(session, settings)
            transparency.make_checkpoint(session, settings)
    except BaseException:
        engine.dispose()
        raise
    return Running(settings, engine, name)
