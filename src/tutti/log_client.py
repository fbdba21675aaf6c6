"""Reading a cooperative's public log over HTTP, to check it from anywhere (``tutti coop log verify --server``).

Only public, read-only endpoints are used (``/api/log/...``); nothing needs an account. What is fetched is
checked by ``tutti.coop.audit.transparency.verify_published`` against a verifier key the caller pinned.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import httpx
import orjson

from tutti.coop.audit.transparency import PublishedEntry
from tutti.coop.errors import CoopError
from tutti.errors import UsageError

TIMEOUT = httpx.Timeout(30.0)
PAGE = 1000


class LogServer:
    """The public log of the cooperative at ``base`` (an http:// or https:// address)."""

    def __init__(self, base: str, client: httpx.Client | None = None) -> None:
        if not base.startswith(("http://", "https://")):
            raise UsageError(f"--server must be an http:// or https:// address, not {base!r}")
        self.base = base.rstrip("/")
        self._client = client or httpx.Client(timeout=TIMEOUT)

    def _get(self, path: str, **params: int) -> Any:
        try:
            response = self._client.get(f"{self.base}{path}", params=params)
        except httpx.HTTPError as exc:
            raise CoopError(f"cannot reach {self.base}: {exc}") from None
        if response.status_code != 200:
            raise CoopError(f"{self.base}{path} answered {response.status_code}; is it a Tutti cooperative?")
        return response.json()

    def latest_checkpoint(self) -> str:
        return str(self._get("/api/log/checkpoint")["note"])

    def consistency(self, first: int, second: int) -> list[bytes]:
        return [bytes.fromhex(h) for h in self._get("/api/log/proof/consistency", first=first, second=second)["proof"]]

    def entries(self, size: int) -> list[PublishedEntry]:
        """The first ``size`` entries, fetched a page at a time."""
        found: list[PublishedEntry] = []
        while len(found) < size:
            page = self._get("/api/log/entries", start=len(found) + 1, limit=min(PAGE, size - len(found)))
            if not page:
                break
            found += [
                PublishedEntry(
                    seq=e["seq"],
                    kind=e["kind"],
                    created_utc=datetime.fromisoformat(e["created_utc"]),
                    member_id=e["member_id"],
                    payload=orjson.dumps(e["payload"], option=orjson.OPT_SORT_KEYS).decode(),
                    prev_hash=e["prev_hash"],
                    hash=e["hash"],
                    signature=base64.b64decode(e["signature"]),
                )
                for e in page
            ]
        return found
