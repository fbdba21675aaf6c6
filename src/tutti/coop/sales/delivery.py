"""Delivery of a release to its buyer, and to nobody else: expiring links with a number of downloads, every
download logged.

Only the buyer of the sale, logged in, can make a link (``make_link``) and use one (``open_download``): a link is a
second factor, not a bearer key, so a link forwarded to someone else opens nothing. A link expires when it says
(at most ``MAX_LINK_HOURS``, and never after the licence ends) and allows ``downloads`` downloads of the release's
files (the manifest counts as one). Only a SHA-256 of its token is stored. Every answer for another buyer's sale
is "not found", so no buyer learns another's sales. Nothing else in the cooperative reads a release's folder.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.actions import DOWNLOAD_RELEASE, require
from tutti.coop.errors import Conflict, InvalidInput, NotFound
from tutti.coop.models import DownloadLink, Member, Release, utcnow
from tutti.coop.sales.release import MANIFEST
from tutti.coop.sales.releases import READY, release_folder, release_of
from tutti.coop.sales.sale import sale_of
from tutti.coop.settings import CoopSettings

DEFAULT_LINK_HOURS = 72
MAX_LINK_HOURS = 14 * 24
DEFAULT_DOWNLOADS = 10
MAX_DOWNLOADS = 100


class LinkUsedUp(NotFound):
    """A download link that expired or has no downloads left: there is nothing to download there any more."""


@dataclass(frozen=True)
class MadeLink:
    link_id: str
    token: str  # shown once, to the buyer; only its hash is kept
    expires_utc: datetime
    downloads: int
    files: list[str]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _own_ready_release(session: Session, buyer: Member, proposal_id: str) -> Release:
    require(DOWNLOAD_RELEASE, buyer)
    _proposal, terms = sale_of(session, proposal_id)
    if terms.buyer_id != buyer.id:
        raise NotFound("no such sale")
    release = release_of(session, proposal_id)
    if release.status != READY:
        raise Conflict(f"the release is not ready ({release.status})")
    return release


def release_files(settings: CoopSettings, release: Release) -> list[str]:
    """The files a release's buyer may download: the manifest and the files it lists."""
    manifest = json.loads((release_folder(settings, release) / MANIFEST).read_text(encoding="utf-8"))
    return [MANIFEST, *(str(f["file"]) for f in manifest["files"])]


def make_link(
    session: Session,
    settings: CoopSettings,
    buyer: Member,
    proposal_id: str,
    *,
    hours: int = DEFAULT_LINK_HOURS,
    downloads: int = DEFAULT_DOWNLOADS,
    now: datetime | None = None,
) -> MadeLink:
    """A new download link to the buyer's own ready release."""
    if not 1 <= hours <= MAX_LINK_HOURS:
        raise InvalidInput(f"a link lasts 1 to {MAX_LINK_HOURS} hours")
    if not 1 <= downloads <= MAX_DOWNLOADS:
        raise InvalidInput(f"a link allows 1 to {MAX_DOWNLOADS} downloads")
    when = now or utcnow()
    release = _own_ready_release(session, buyer, proposal_id)
    if release.expires_utc <= when:
        raise Conflict("the licence of this sale has ended: its release is no longer delivered")
    token = secrets.token_urlsafe(32)
    link = DownloadLink(
        release_id=release.id,
        token_hash=_token_hash(token),
        max_downloads=downloads,
        downloads=0,
        created_utc=when,
        expires_utc=min(when + timedelta(hours=hours), release.expires_utc),
    )
    session.add(link)
    session.flush()
    audit.record(
        session,
        audit.ReleaseLinkMade(
            proposal_id=proposal_id,
            release_id=release.id,
            link_id=link.id,
            downloads=downloads,
            expires_utc=link.expires_utc.isoformat(),
        ),
        now=when,
    )
    return MadeLink(link.id, token, link.expires_utc, downloads, release_files(settings, release))


def open_download(
    session: Session, settings: CoopSettings, buyer: Member, token: str, file: str, *, now: datetime | None = None
) -> Path:
    """The path of ``file`` of the release ``token`` links to, counting one download; for its buyer only."""
    require(DOWNLOAD_RELEASE, buyer)
    when = now or utcnow()
    link = session.scalars(select(DownloadLink).where(DownloadLink.token_hash == _token_hash(token))).one_or_none()
    if link is None:
        raise NotFound("no such download link")
    release = session.get_one(Release, link.release_id)
    _own_ready_release(session, buyer, release.proposal_id)  # another buyer's link: "not found" there too
    if file not in release_files(settings, release):
        raise NotFound("the release has no such file")
    if link.expires_utc <= when or release.expires_utc <= when:
        raise LinkUsedUp("this download link has expired")
    # One download, taken atomically: two requests at once cannot both take the last one.
    taken = session.execute(
        update(DownloadLink)
        .where(DownloadLink.id == link.id, DownloadLink.downloads < DownloadLink.max_downloads)
        .values(downloads=DownloadLink.downloads + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkUsedUp("this download link has no downloads left")
    audit.record(
        session,
        audit.ReleaseDownloaded(proposal_id=release.proposal_id, release_id=release.id, link_id=link.id, file=file),
        now=when,
    )
    return release_folder(settings, release) / file
