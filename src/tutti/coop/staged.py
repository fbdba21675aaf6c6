"""Files that follow the database transaction: they appear, or go, only when the session commits.

The pool and the sealed uploads are files beside the database, written and deleted by the same actions that
write rows. A contribution that is rolled back (a refusal, a crash, a failed commit) must leave no file behind,
and a withdrawal that is rolled back must leave every file where it was. So file changes are staged:

- a new file is written at once under a hidden temporary name in its final folder, and renamed into place after
  the commit (a rename within a folder is atomic); a rollback deletes it, with any folder made for it;
- a file to delete is renamed aside at once (so listings and counts no longer see it) and unlinked after the
  commit; a rollback renames it back.

Session events drive this: ``after_commit`` of the outermost transaction applies what was staged,
``after_soft_rollback`` undoes what was staged inside the transaction or savepoint rolled back, and the end of
the outermost transaction without a commit (a session closed without committing) undoes the rest. A crash
between a commit and its renames leaves only hidden ``*.staged`` files.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

STAGED_SUFFIX = ".staged"
_PENDING = "tutti_staged_files"
_log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class _Staged:
    transaction: SessionTransaction
    commit: Callable[[], object]
    undo: Callable[[], object]


def _pending(session: Session) -> list[_Staged]:
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_soft_rollback)
        event.listen(session, "after_transaction_end", _after_transaction_end)
    assert isinstance(pending, list)
    return pending


def _stage(session: Session, commit: Callable[[], object], undo: Callable[[], object]) -> None:
    if not session.in_transaction():
        session.begin()
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None
    _pending(session).append(_Staged(transaction, commit, undo))


def _run(steps: list[Callable[[], object]], what: str) -> None:
    # The database has already decided; a file step that fails must not stop the others.
    for step in steps:
        try:
            step()
        except OSError as exc:
            _log.error("a staged file could not be %s: %s", what, exc)


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the outer transaction can still roll back
    pending = session.info.get(_PENDING) or []
    steps = [p.commit for p in pending]
    pending.clear()
    _run(steps, "put in place")


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING) or []
    undone = [p for p in pending if _within(p.transaction, previous_transaction)]
    pending[:] = [p for p in pending if p not in undone]
    _run([p.undo for p in reversed(undone)], "undone")


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    # The outermost transaction ended without a commit (after one, nothing is left): undo everything.
    pending = session.info.get(_PENDING) or []
    steps = [p.undo for p in reversed(pending)]
    pending.clear()
    _run(steps, "undone")


def _hidden(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}{STAGED_SUFFIX}")


_HIDDEN = re.compile(rf"^\.(?P<name>.+)\.[0-9a-f]{{12}}{re.escape(STAGED_SUFFIX)}$")


def staged_target(hidden: Path) -> Path | None:
    """The file a hidden staged file stands for (``.part-x.parquet.1a2b3c4d5e6f.staged`` -> ``part-x.parquet``):
    written and not yet put in place, or put aside and not yet deleted. None for any other name."""
    found = _HIDDEN.match(hidden.name)
    return hidden.with_name(found["name"]) if found else None


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents (mode 0700); the ones created, deepest first."""
    created = []
    while not folder.exists():
        created.append(folder)
        folder = folder.parent
    for made in reversed(created):
        made.mkdir(mode=0o700, exist_ok=True)
    return created


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or gone): leave it and its parents


def write_on_commit(session: Session, path: Path, write: Callable[[Path], object]) -> None:
    """``write(temporary path)`` now; the file becomes ``path`` when the session commits, or goes on rollback."""
    created = _make_folders(path.parent)
    temporary = _hidden(path)
    try:
        write(temporary)
    except BaseException:
        temporary.unlink(missing_ok=True)
        _remove_empty(created)
        raise

    def undo() -> None:
        temporary.unlink(missing_ok=True)
        _remove_empty(created)

    _stage(session, lambda: temporary.replace(path), undo)


def delete_on_commit(session: Session, path: Path) -> bool:
    """Take ``path`` out of sight now and delete it when the session commits (a rollback puts it back).

    False when there is no such file.
    """
    if not path.is_file():
        return False
    aside = _hidden(path)
    path.replace(aside)
    _stage(session, lambda: aside.unlink(missing_ok=True), lambda: aside.replace(path))
    return True


def delete_folder_on_commit(session: Session, folder: Path) -> None:
    """Delete ``folder`` and the files left in it when the session commits (after the steps staged before)."""

    def commit() -> None:
        if not folder.is_dir():
            return
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()

    _stage(session, commit, lambda: None)
