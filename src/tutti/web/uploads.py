"""Uploaded files, saved under a scratch folder by their own names (made safe), within the server's size limit.

The names are hints only: importers decide by content what each file is.

Reading an upload's body writes it to disk as it arrives. The framework would do each write on the thread pool
every other page's handler runs on, one write per network chunk: a burst of uploads then fills that pool and an
unrelated page waits seconds for a thread. Here (``UploadRoute``) the body's file parts are gathered a megabyte at
a time and written on threads of a small pool of their own (``TUTTI_COOP_UPLOADS_AT_ONCE`` of them), so uploads
queue among themselves and the pages' threads stay free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Sequence
from contextlib import aclosing
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import anyio
import anyio.to_thread
from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from tutti.coop.errors import InvalidInput
from tutti.coop.settings import CoopSettings
from tutti.web.errors import UploadTooLarge

MAX_UPLOAD_BYTES = 512 * 1024**2
MAX_FILES = 200
# What the file picker offers; the importers read by content whatever the name says.
ACCEPTED_SUFFIXES = (".zip", ".json", ".csv", ".tsv", ".jsonl", ".txt")
_CHUNK = 1024**2
_UNSAFE = re.compile(r"[^\w.()+ -]+")


class NamedUpload(Protocol):
    @property
    def filename(self) -> str | None: ...

    @property
    def file(self) -> BinaryIO: ...


def safe_name(filename: str | None) -> str:
    """The file's base name, without folders, control characters or a leading dot."""
    base = re.split(r"[\\/]", filename or "")[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")[:200]
    return cleaned or "upload"


def save_uploads(files: Sequence[NamedUpload], folder: Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> list[Path]:
    """Write each upload to ``folder`` (names made unique); UploadTooLarge past ``max_bytes`` in total."""
    chosen = [f for f in files if f.filename]
    if not chosen:
        raise InvalidInput("choose at least one file to upload")
    if len(chosen) > MAX_FILES:
        raise InvalidInput(f"upload at most {MAX_FILES} files at once (or put them in one zip)")
    unread = [safe_name(f.filename) for f in chosen if not safe_name(f.filename).lower().endswith(ACCEPTED_SUFFIXES)]
    if unread:
        raise InvalidInput(f"{unread[0]}: not a file an export holds (those end in {', '.join(ACCEPTED_SUFFIXES)})")
    total = 0
    paths: list[Path] = []
    for upload in chosen:
        target = folder / safe_name(upload.filename)
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():
            n += 1
            target = folder / f"{stem} ({n}){suffix}"
        with target.open("wb") as out:
            while chunk := upload.file.read(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise UploadTooLarge(
                        f"the upload is larger than the {max_bytes // 1024**2} MiB this server accepts"
                    )
                out.write(chunk)
        paths.append(target)
    return paths


class _OffloadedUpload(UploadFile):
    """An uploaded file whose disk writes are gathered (``_CHUNK`` at a time) and run on the upload threads."""

    def __init__(self, part: UploadFile, threads: anyio.CapacityLimiter) -> None:
        super().__init__(part.file, size=part.size, filename=part.filename, headers=part.headers)
        self._threads = threads
        self._pending = bytearray()

    async def _run(self, call: Callable[[], object]) -> None:
        await anyio.to_thread.run_sync(call, limiter=self._threads)

    def _flush(self) -> None:
        self.file.write(self._pending)
        self._pending.clear()

    async def write(self, data: bytes) -> None:
        if self.size is not None:
            self.size += len(data)
        self._pending.extend(data)
        if len(self._pending) >= _CHUNK:
            await self._run(self._flush)

    def _flush_and_seek(self, offset: int) -> None:
        self._flush()
        self.file.seek(offset)

    async def seek(self, offset: int) -> None:
        await self._run(partial(self._flush_and_seek, offset))

    async def read(self, size: int = -1) -> bytes:
        return await anyio.to_thread.run_sync(self.file.read, size, limiter=self._threads)

    async def close(self) -> None:
        await self._run(self.file.close)


class _OffloadedParser(MultiPartParser):
    def __init__(self, threads: anyio.CapacityLimiter, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._threads = threads

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        part = self._current_part.file
        if part is not None:
            self._current_part.file = _OffloadedUpload(part, self._threads)


def upload_threads(request: Request) -> anyio.CapacityLimiter:
    """The server's threads for writing upload bodies, made on first use (a limiter belongs to the event loop)."""
    threads = getattr(request.app.state, "upload_threads", None)
    if not isinstance(threads, anyio.CapacityLimiter):
        settings: CoopSettings = request.app.state.settings
        threads = request.app.state.upload_threads = anyio.CapacityLimiter(settings.uploads_at_once)
    return threads


class UploadRequest(Request):
    async def _get_form(
        self, *, max_files: int | float = 1000, max_fields: int | float = 1000, max_part_size: int = _CHUNK
    ) -> FormData:
        content_type = self.headers.get("content-type", "")
        if self._form is not None or not content_type.lower().startswith("multipart/form-data"):
            return await super()._get_form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
        parse = partial(_OffloadedParser, upload_threads(self), self.headers)
        try:
            async with aclosing(self.stream()) as stream:
                self._form = await parse(
                    stream, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
                ).parse()
        except MultiPartException as exc:
            raise HTTPException(status_code=400, detail=exc.message) from exc
        return self._form


def _uploads_under_way(request: Request) -> anyio.CapacityLimiter:
    """How many uploads the server handles at once, from reading the body to the answer: twice the upload
    threads, so that some read while others are sealed."""
    gate = getattr(request.app.state, "uploads_under_way", None)
    if not isinstance(gate, anyio.CapacityLimiter):
        settings: CoopSettings = request.app.state.settings
        gate = request.app.state.uploads_under_way = anyio.CapacityLimiter(2 * settings.uploads_at_once)
    return gate


class UploadRoute(APIRoute):
    """A route whose multipart bodies are read by ``UploadRequest`` (written on the upload threads), and whose
    uploads (POST) are handled a few at a time (``_uploads_under_way``): the others wait before anything is read,
    holding no thread, so a burst never queues a page's handler behind a hundred uploads' authentication."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_upload_request(request: Request) -> Response:
            upload = UploadRequest(request.scope, request.receive)
            if request.method != "POST":
                return await handler(upload)
            async with _uploads_under_way(upload):
                return await handler(upload)

        return with_upload_request
