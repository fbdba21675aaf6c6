"""JSON reading shared by the importers: fast (orjson), with errors that name the file and the place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from tutti.errors import ExportError, RecordError
from tutti.importers._archive import Entry


def _describe(data: bytes, exc: orjson.JSONDecodeError) -> str:
    if "utf-8" in str(exc).lower():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            line = data.count(b"\n", 0, bad.start) + 1
            return f"is not UTF-8 text (byte {bad.start}, line {line})"
    if exc.pos >= len(data.rstrip()):
        return f"is truncated: the JSON ends early (line {exc.lineno}, column {exc.colno})"
    return f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"


def load_json(entry: Entry) -> Any:
    """Parse a whole JSON file (``Entry`` has already dropped a BOM)."""
    data = entry.read_bytes()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ExportError(entry.path, _describe(data, exc)) from exc


def load_json_array(entry: Entry) -> list[Any]:
    """Parse a file that must hold a JSON array of records."""
    value = load_json(entry)
    if not isinstance(value, list):
        raise ExportError(entry.path, f"should hold a JSON array of records but holds a {type(value).__name__}")
    return value


def iter_jsonl(entry: Entry) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed object) for each non-blank line of a JSON-lines file."""
    data = entry.read_bytes()
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            reason = "is not UTF-8 text" if "utf-8" in str(exc).lower() else f"is not valid JSON ({exc.msg})"
            raise RecordError(entry.path, f"line {number}", reason) from exc
