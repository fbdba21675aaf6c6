"""Refusals translated once: every error class of the cooperative has its status code, and oversized bodies are
refused before any parsing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tutti.coop import errors as coop_errors
from tutti.errors import ExportError, TuttiError
from tutti.web.errors import STATUS_CODES, UploadTooLarge, status_code_for
from tutti.web.middleware import BodyLimit
from tutti.web.uploads import safe_name, save_uploads


def _instance(cls: type[TuttiError]) -> TuttiError:
    if cls is coop_errors.ValidationRejected:
        return coop_errors.ValidationRejected(["reason"])
    if cls is coop_errors.RateLimited:
        return coop_errors.RateLimited("upload", 5)
    if cls is ExportError:
        return ExportError("a.zip", "is damaged")
    return cls("x")


def test_every_refusal_has_its_own_status_code() -> None:
    expected = {
        coop_errors.Unauthenticated: 401,
        coop_errors.NotAllowed: 403,
        coop_errors.CsrfMismatch: 403,
        coop_errors.NotFound: 404,
        coop_errors.Conflict: 409,
        coop_errors.KeyDestroyed: 410,
        UploadTooLarge: 413,
        coop_errors.InvalidInput: 400,
        coop_errors.ValidationRejected: 400,
        ExportError: 400,
        coop_errors.RateLimited: 429,
        coop_errors.ConfigError: 500,
        coop_errors.DecryptionFailed: 500,
        coop_errors.LogInvalid: 500,
        TuttiError: 400,
    }
    assert {cls: status_code_for(_instance(cls)) for cls in expected} == expected
    # Every class of the cooperative is listed: none falls through to the generic 400.
    listed = {cls for cls, _ in STATUS_CODES}
    for value in vars(coop_errors).values():
        if isinstance(value, type) and issubclass(value, coop_errors.CoopError) and value is not coop_errors.CoopError:
            assert value in listed, value


@pytest.fixture
def echo() -> Iterator[TestClient]:
    inner = FastAPI()

    @inner.post("/api/echo")
    async def read(body: dict[str, str]) -> dict[str, int]:
        return {"fields": len(body)}

    with TestClient(BodyLimit(inner, max_bytes=64)) as client:
        yield client


def test_bodies_over_the_limit_are_refused_with_413(echo: TestClient) -> None:
    assert echo.post("/api/echo", json={"a": "b"}).json() == {"fields": 1}
    refused = echo.post("/api/echo", json={"a": "b" * 100})
    assert refused.status_code == 413 and "MiB this server accepts" in refused.json()["detail"]

    def chunks() -> Iterator[bytes]:
        yield b'{"a": "'
        yield b"b" * 100
        yield b'"}'

    # Without a Content-Length the body is counted as it arrives and cut off at the limit.
    streamed = echo.post("/api/echo", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413


class _Upload:
    def __init__(self, name: str, data: bytes) -> None:
        self.filename: str | None = name
        self.file = io.BytesIO(data)


def test_uploaded_names_are_made_safe_and_unique_within_the_size_limit(tmp_path: Path) -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\ada\\endsong_0.json") == "endsong_0.json"
    assert safe_name("..") == "upload" and safe_name(None) == "upload"
    saved = tmp_path / "saved"
    saved.mkdir()
    files = [_Upload("a.json", b"[]"), _Upload("dir/a.json", b"[1]")]
    paths = save_uploads(files, saved)
    assert [p.name for p in paths] == ["a.json", "a (2).json"] and paths[1].read_bytes() == b"[1]"
    with pytest.raises(UploadTooLarge):
        save_uploads([_Upload("big.json", b"x" * 100)], saved, max_bytes=10)
    with pytest.raises(coop_errors.InvalidInput):
        save_uploads([], saved)
