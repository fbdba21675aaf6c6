"""Sealing what is kept of an upload: the plays as read, encrypted with the member's key, beside the database.

Kept are the plays as the importers read them (``PLAY_SCHEMA`` as Parquet: file names inside the upload, every
recorded field), not the uploaded bytes: export files carry IP addresses, user agents and usernames, and their
folders carry personal files (payments, addresses), none of which the cooperative may store. Accepted uploads
keep theirs, and so do rejected near-copies, as evidence for the stewards. The file follows the deciding
transaction (``tutti.coop.staged``).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from tutti.coop import crypto, staged
from tutti.coop.contributions.deciding import Decision
from tutti.coop.contributions.known import Known
from tutti.coop.settings import CoopSettings

CONTRIBUTIONS_DIR = "contributions"
BLOB_SUFFIX = ".blob"


def member_folder(settings: CoopSettings, member_id: str) -> Path:
    """Where a member's sealed plays and sealed uploads live."""
    return settings.data_dir / CONTRIBUTIONS_DIR / member_id


def blob_path(settings: CoopSettings, member_id: str, contribution_id: str) -> Path:
    return member_folder(settings, member_id) / f"{contribution_id}{BLOB_SUFFIX}"


def seal(
    session: Session, settings: CoopSettings, known: Known, contribution_id: str, plays: pa.Table, decision: Decision
) -> str | None:
    """Seal ``plays`` (as read) with the member's key when the decision keeps them; the file appears when
    ``session`` commits. Its path relative to the data folder (what ``contribution.blob_path`` holds), or None."""
    if not decision.keeps_plays:
        return None
    path = blob_path(settings, known.member_id, contribution_id)
    staged.write_on_commit(session, path, lambda to: _write_sealed(plays, known.member_key, to))
    return str(path.relative_to(settings.data_dir))


def _write_sealed(plays: pa.Table, key: bytes, to: Path) -> None:
    # Parquet goes straight into the sealing stream: no copy of the file, plain or sealed, is held in memory.
    with to.open("wb") as out:
        sealed = crypto.sealing(key, out)
        pq.write_table(plays, sealed, compression="zstd")
        sealed.close()
