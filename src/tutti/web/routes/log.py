"""The public log: anyone may read it, check it and keep checkpoints of it; nothing here needs an account.

Entries hold ids and codes only (``tutti.coop.audit`` refuses personal fields), so serving them publishes no
member's personal data. Proofs are RFC 9162's; checkpoints are C2SP signed notes, checked with the log's verifier
key, which operators publish and which ``/api/log/key`` repeats (pin it from a source you trust, not from here).
"""

from __future__ import annotations

import base64
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from tutti.coop.audit import transparency
from tutti.coop.errors import NotFound
from tutti.coop.models import AuditEvent
from tutti.web.deps import Db
from tutti.web.schemas import MAX_DB_INT, LogCheckpointPublic, LogEntryPublic, LogProofPublic

router = APIRouter(tags=["log"])
MAX_ENTRIES = 1000


@router.get("/api/log/checkpoint")
def checkpoint_api(db: Db) -> LogCheckpointPublic:
    """The latest signed checkpoint of the log."""
    latest = transparency.latest_checkpoint(db)
    if latest is None:
        raise NotFound("the log has no checkpoint yet")
    return LogCheckpointPublic(size=latest.size, root_hash=latest.root_hash, note=latest.note)


@router.get("/api/log/key", response_class=PlainTextResponse)
def key_api(db: Db) -> str:
    """The log's verifier key as this server states it (NAME+KEYID+BASE64)."""
    return transparency.database_verifier_key(db).text() + "\n"


MAX_SEQ = MAX_DB_INT  # audit_event.seq


@router.get("/api/log/entries")
def entries_api(
    db: Db,
    start: Annotated[int, Query(ge=1, le=MAX_SEQ, description="First entry (from 1).")] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 100,
) -> list[LogEntryPublic]:
    """Entries in order, from ``start``."""
    rows = db.scalars(select(AuditEvent).where(AuditEvent.seq >= start).order_by(AuditEvent.seq).limit(limit))
    return [
        LogEntryPublic(
            seq=row.seq,
            kind=row.kind,
            created_utc=row.created_utc,
            member_id=row.member_id,
            payload=orjson.loads(row.payload),
            prev_hash=row.prev_hash,
            hash=row.hash,
            signature=base64.b64encode(row.signature).decode(),
        )
        for row in rows
    ]


@router.get("/api/log/proof/inclusion")
def inclusion_api(
    db: Db, seq: Annotated[int, Query(ge=1, le=MAX_SEQ)], size: Annotated[int, Query(ge=1, le=MAX_SEQ)]
) -> LogProofPublic:
    """The proof that entry ``seq`` is in the tree of the first ``size`` entries."""
    return LogProofPublic(proof=[h.hex() for h in transparency.inclusion_proof(db, seq, size)])


@router.get("/api/log/proof/consistency")
def consistency_api(
    db: Db, first: Annotated[int, Query(ge=0, le=MAX_SEQ)], second: Annotated[int, Query(ge=0, le=MAX_SEQ)]
) -> LogProofPublic:
    """The proof that the tree of ``second`` entries extends the tree of ``first`` entries."""
    return LogProofPublic(proof=[h.hex() for h in transparency.consistency_proof(db, first, second)])
