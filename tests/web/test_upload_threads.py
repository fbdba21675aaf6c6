"""An upload's body is written to disk on the upload threads, never on the thread pool the pages' handlers run
on: with every thread of that pool taken, a body of several megabytes is still read whole and intact."""

from __future__ import annotations

import secrets
from types import SimpleNamespace

import anyio
import anyio.to_thread
from fastapi import FastAPI
from starlette.datastructures import UploadFile
from starlette.types import Message, Scope

from tutti.web.uploads import UploadRequest

BOUNDARY = "tuttiboundary"
NETWORK_CHUNK = 65536


def _multipart(files: dict[str, bytes]) -> bytes:
    parts = []
    for name, data in files.items():
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n\r\n'
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


async def _read_form(body: bytes) -> dict[str, bytes]:
    app = FastAPI()
    app.state.settings = SimpleNamespace(uploads_at_once=2)
    chunks = [body[i : i + NETWORK_CHUNK] for i in range(0, len(body), NETWORK_CHUNK)]

    async def receive() -> Message:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/contributions",
        "headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())],
        "app": app,
        "query_string": b"",
    }
    received = {}
    form = await UploadRequest(scope, receive).form()
    for item in form.getlist("files"):
        assert isinstance(item, UploadFile) and item.filename
        received[item.filename] = await item.read()
        await item.close()
    return received


def test_an_upload_body_is_read_while_every_page_thread_is_busy() -> None:
    files = {"a.json": secrets.token_bytes(3 * 1024**2 + 17), "b.csv": secrets.token_bytes(5 * 1024**2 + 3)}
    received: dict[str, bytes] = {}

    async def main() -> None:
        pages = anyio.to_thread.current_default_thread_limiter()
        holders = [object() for _ in range(int(pages.total_tokens))]
        for holder in holders:
            await pages.acquire_on_behalf_of(holder)
        try:
            # Were a write waiting for a page thread, this would never end: fail_after turns that into a failure.
            with anyio.fail_after(60):
                received.update(await _read_form(_multipart(files)))
        finally:
            for holder in holders:
                pages.release_on_behalf_of(holder)

    anyio.run(main)
    assert received == files


def test_a_small_upload_and_an_empty_file_are_read_as_sent() -> None:
    files = {"small.json": b'{"a": 1}', "empty.csv": b""}
    assert anyio.run(_read_form, _multipart(files)) == files
