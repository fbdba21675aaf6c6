"""Rotating the master key: every key it wraps (member keys, release keys, the log's signing key) is wrapped
anew under a fresh key, then the old key is destroyed.

Why: a backup holds the wrapped member keys of its day. Withdrawal destroys a member's wrapped key in the live
database, but a backup made before still holds it, and the master key would open it. Once the master key is
rotated, the old one no longer exists anywhere the cooperative keeps it, so no backup made before the rotation
can be opened: erasure reaches backups at the next rotation (the README's backup policy says how often).

The database records which key wraps its keys (``Cooperative.master_key_id``, a keyed hash, never the key), so a
server started with the wrong key, or with the old key after a rotation, refuses to run instead of failing later.

Crash safety, in three steps:

1. the new key is written beside the old one, to ``master.key.new`` (0600, flushed to disk);
2. one database transaction re-wraps every member key and the log's signing key under the new key, recomputes
   the members' email lookup hashes (``members.emails``) under it and records the new key's id and generation
   (and an audit event);
3. ``master.key.new`` replaces ``master.key`` (an atomic rename), and the old key's bytes are overwritten.

A crash before step 2 commits leaves the database on the old key, and the leftover ``master.key.new`` is
discarded; a crash after it leaves a new key that matches the database, and ``settle`` finishes the rename. Either
way, ``settle`` (run where the server and the commands start) puts the key files and the database in agreement.
With the master key in ``TUTTI_COOP_MASTER_KEY`` instead of a file, the new key is written to the file the
operator names, who then replaces the variable's value; the old value cannot be destroyed by us, so say so.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop._keywrap import (
    SIGNING_KEY_CONTEXT,
    master_key_id,
    member_key_context,
    release_key_context,
    unwrap,
    wrap,
)
from tutti.coop.errors import ConfigError
from tutti.coop.members import emails
from tutti.coop.models import Cooperative, MemberKey, Release, utcnow
from tutti.coop.settings import KEY_BYTES, MASTER_KEY, MASTER_KEY_FILE, CoopSettings, check_master_key

NEW_SUFFIX = ".new"


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: the generation now in force, how many member keys it re-wrapped, where the key is."""

    generation: int
    member_keys: int
    key_file: Path
    old_key_destroyed: bool


def _read_key(path: Path) -> bytes:
    return check_master_key(base64.b64decode(path.read_text(encoding="ascii").strip()), str(path))


def _write_private(path: Path, key: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(base64.b64encode(key).decode("ascii") + "\n")
        out.flush()
        os.fsync(out.fileno())


def _destroy(path: Path) -> None:
    """Overwrite a key file's bytes, then unlink it (what the file system keeps elsewhere is beyond us)."""
    with path.open("r+b") as fp:
        size = fp.seek(0, os.SEEK_END)
        fp.seek(0)
        fp.write(os.urandom(size))
        fp.flush()
        os.fsync(fp.fileno())
    path.unlink()


def check_key_matches(session: Session, master_key: bytes) -> None:
    """ConfigError unless ``master_key`` is the key the database's keys are wrapped with (recorded on first use)."""
    coop = session.get(Cooperative, 1)
    if coop is None:
        return
    if coop.master_key_id is None:
        # Databases from before the id was recorded: the signing key opening is the proof of the right key.
        unwrap(master_key, coop.signing_key_wrapped, SIGNING_KEY_CONTEXT)
        coop.master_key_id = master_key_id(master_key)
        return
    if coop.master_key_id != master_key_id(master_key):
        raise ConfigError(
            "the master key is not the one this database's keys are wrapped with "
            f"(generation {coop.master_key_generation}); after a rotation, use the new key"
        )


def settle(engine: Engine, data_dir: Path) -> None:
    """Finish or undo a rotation a crash interrupted (see the module docstring); nothing to do most of the time."""
    current, pending = data_dir / MASTER_KEY_FILE, data_dir / (MASTER_KEY_FILE + NEW_SUFFIX)
    if not pending.exists():
        return
    with Session(engine) as session:
        expected = session.scalars(select(Cooperative.master_key_id)).first()
    new = _read_key(pending)
    if expected == master_key_id(new):
        old = current if current.exists() else None
        if old is not None:
            retired = old.with_name(old.name + ".old")
            old.replace(retired)
            pending.replace(current)
            _destroy(retired)
        else:
            pending.replace(current)
    else:
        _destroy(pending)


def rotate(
    session: Session, settings: CoopSettings, *, out: Path | None = None, now: datetime | None = None
) -> Rotation:
    """Re-wrap every key under a new master key and commit; then replace (and destroy) the old key file.

    ``session`` must be outside a transaction: this commits. ``out`` is where the new key goes when the key came
    from the environment (required then). Stop the server and workers first: they hold the old key in memory.
    """
    from_env = MASTER_KEY.env in os.environ
    key_file = settings.data_dir / MASTER_KEY_FILE
    if from_env and out is None:
        raise ConfigError(f"the master key comes from {MASTER_KEY.env}: name a file for the new key with --out")
    target = out if from_env and out is not None else key_file.with_name(key_file.name + NEW_SUFFIX)
    if target.exists():
        raise ConfigError(f"{target} exists already: remove it, or let `tutti coop serve` settle a past rotation")
    new_key = os.urandom(KEY_BYTES)
    _write_private(target, new_key)
    old_key = settings.master_key
    when = now or utcnow()
    try:
        with session.begin():
            check_key_matches(session, old_key)
            coop = session.get_one(Cooperative, 1, with_for_update=True)
            keys = list(session.scalars(select(MemberKey).where(MemberKey.wrapped_key.is_not(None))))
            plain: dict[str, bytes] = {}
            for row in keys:
                assert row.wrapped_key is not None
                context = member_key_context(row.member_id)
                plain[row.member_id] = unwrap(old_key, row.wrapped_key, context)
                row.wrapped_key = wrap(new_key, plain[row.member_id], context)
            # Release keys make a release's pseudonyms and watermark: kept, so a leaked copy can still be traced.
            for release in session.scalars(select(Release)):
                context = release_key_context(release.id)
                release.sealed_key = wrap(new_key, unwrap(old_key, release.sealed_key, context), context)
            # Lookup hashes are keyed by the master key too: an old backup's cannot be matched to an address.
            emails.recompute_lookups(session, plain, new_key)
            signing = unwrap(old_key, coop.signing_key_wrapped, SIGNING_KEY_CONTEXT)
            generation = coop.master_key_generation + 1
            # Recorded first: the log signs with the signing key as the old master key still wraps it.
            audit.record(session, audit.MasterKeyRotated(generation=generation), now=when)
            session.execute(
                update(Cooperative)
                .where(Cooperative.id == 1)
                .values(
                    signing_key_wrapped=wrap(new_key, signing, SIGNING_KEY_CONTEXT),
                    master_key_id=master_key_id(new_key),
                    master_key_generation=generation,
                ),
                execution_options={"synchronize_session": False},
            )
    except BaseException:
        _destroy(target)
        raise
    if from_env:
        return Rotation(generation, len(keys), target, old_key_destroyed=False)
    retired = key_file.with_name(key_file.name + ".old")
    key_file.replace(retired)
    target.replace(key_file)
    _destroy(retired)
    return Rotation(generation, len(keys), key_file, old_key_destroyed=True)
