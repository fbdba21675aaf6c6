"""``tutti coop contribute``: read an export locally with the same importers the server uses, upload it, and
follow its validation on the server until the report is there.

Reading first means bad input fails on the member's machine, at once, naming the file, instead of after an
upload. What is sent are the original files (the zip as the service sent it, or the files of a folder that an
importer reads: never the personal files beside them); the server reads them again, since it trusts nothing.
The server answers at once with the contribution, pending; ``follow`` asks for it again until it is decided.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
from pydantic import ValidationError

from tutti.coop.errors import (
    Conflict,
    CoopError,
    InvalidInput,
    NotAllowed,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from tutti.errors import ExportError, UsageError
from tutti.importers._archive import open_export
from tutti.importers.detect import detect
from tutti.settings import Setting
from tutti.web.schemas import ContributionPublic, ProgressPublic

COOP_TOKEN = Setting(
    "TUTTI_COOP_TOKEN",
    "API token for `tutti coop contribute`, with the `contribute` scope only (made on the server's *API tokens* "
    "page); `--token` overrides it.",
)
# A large upload on a slow line takes long to send; the server answers as soon as it has stored it.
TIMEOUT = httpx.Timeout(30.0, read=300.0, write=900.0)
FOLLOW_EVERY = 1.0
_ERRORS_BY_STATUS: dict[int, type[CoopError]] = {
    401: Unauthenticated,
    403: NotAllowed,
    404: NotFound,
    409: Conflict,
    413: InvalidInput,
    422: InvalidInput,
}


@dataclass(frozen=True)
class LocalExport:
    """An export read on this machine: what it holds, and which files of it go to the server."""

    path: Path
    plays: int
    formats: tuple[str, ...]
    files: tuple[Path, ...]

    @property
    def size(self) -> int:
        return sum(f.stat().st_size for f in self.files)


def read_locally(path: Path) -> LocalExport:
    """Read ``path`` as the server will; an ExportError naming the file when it cannot be contributed."""
    from tutti.coop.contributions.reading import read_upload  # DuckDB and pyarrow load only for this command

    upload = read_upload([path])
    if upload.error is not None:
        raise ExportError(str(path), f"cannot be contributed: {upload.error}")
    if upload.table.num_rows == 0:
        unread = "; ".join(f"{f.name}: {f.unread_reason}" for f in upload.files if f.unread_reason)
        raise ExportError(str(path), "holds no plays Tutti can read" + (f" ({unread})" if unread else ""))
    formats = tuple(sorted({f.format for f in upload.files if f.format and f.plays}))
    return LocalExport(path, upload.table.num_rows, formats, tuple(_files_to_send(path)))


def _files_to_send(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    claimed: set[Path] = set()
    for _importer, entries in detect(open_export(path)).claims:
        for entry in entries:
            # A zip inside the folder is sent whole: "folder/export.zip!inner.json" comes from folder/export.zip.
            claimed.add(Path(entry.path.split("!", 1)[0]))
    return sorted(claimed)


class _Counting:
    """A file read by httpx while it streams the upload; reports the bytes sent so far."""

    def __init__(self, fp: IO[bytes], sent: Callable[[int], None]) -> None:
        self._fp = fp
        self._sent = sent

    def read(self, size: int = -1) -> bytes:
        chunk = self._fp.read(size)
        self._sent(len(chunk))
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._fp.seek(offset, whence)

    def tell(self) -> int:
        return self._fp.tell()

    def fileno(self) -> int:
        return self._fp.fileno()


def _server_error(response: httpx.Response) -> CoopError:
    try:
        detail = str(response.json().get("detail") or response.reason_phrase)
    except ValueError:
        detail = response.text.strip()[:200] or response.reason_phrase
    if response.status_code == 429:
        retry = response.headers.get("Retry-After", "60")
        return RateLimited("upload", int(retry) if retry.isdigit() else 60)
    cls = _ERRORS_BY_STATUS.get(response.status_code, CoopError)
    return cls(f"the server refused the upload ({response.status_code}): {detail}")


def _base(server: str, token: str | None) -> tuple[str, dict[str, str]]:
    if not token:
        raise UsageError(
            f"no API token: pass --token or set {COOP_TOKEN.env} (make one with the `contribute` scope only on the "
            "server's API tokens page)"
        )
    base = server.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise UsageError(f"--server must be an http:// or https:// address, not {server!r}")
    return base, {"Authorization": f"Bearer {token}"}


def _contribution(base: str, response: httpx.Response, expected: int) -> ContributionPublic:
    if response.status_code != expected:
        raise _server_error(response)
    try:
        return ContributionPublic.model_validate(response.json())
    except (ValueError, ValidationError):
        raise CoopError(f"{base} did not answer with a contribution; is it a Tutti cooperative?") from None


def upload(
    server: str, token: str | None, export: LocalExport, *, progress: Callable[[int], None] | None = None
) -> ContributionPublic:
    """Send the export's files to ``server``'s ``POST /api/contributions``; the pending contribution it answers."""
    base, headers = _base(server, token)
    total = 0

    def sent(n: int) -> None:
        nonlocal total
        total += n
        if progress is not None:
            progress(total)

    with ExitStack() as stack:
        files = [
            (
                "files",
                (_name(export.path, f), _Counting(stack.enter_context(f.open("rb")), sent), "application/octet-stream"),
            )
            for f in export.files
        ]
        try:
            response = httpx.post(
                f"{base}/api/contributions",
                files=files,  # type: ignore[arg-type]  # a counting reader, read like a file but not an IO
                headers=headers,
                timeout=TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise CoopError(f"cannot reach {base}: {exc}") from None
    return _contribution(base, response, 202)


def follow(
    server: str,
    token: str | None,
    contribution_id: str,
    *,
    progress: Callable[[ProgressPublic | None], None] | None = None,
    every: float = FOLLOW_EVERY,
) -> ContributionPublic:
    """Ask for the contribution every ``every`` seconds until it is decided (accepted or rejected)."""
    base, headers = _base(server, token)
    with httpx.Client(base_url=base, headers=headers, timeout=TIMEOUT) as client:
        while True:
            try:
                response = client.get(f"/api/contributions/{contribution_id}")
            except httpx.HTTPError as exc:
                raise CoopError(f"cannot reach {base}: {exc}") from None
            contribution = _contribution(base, response, 200)
            if contribution.report is not None:
                return contribution
            if progress is not None:
                progress(contribution.progress)
            time.sleep(every)


def _name(root: Path, file: Path) -> str:
    return file.relative_to(root).as_posix() if root.is_dir() else file.name
