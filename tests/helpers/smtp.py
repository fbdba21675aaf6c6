"""A real SMTP server in the test's process (aiosmtpd), keeping every message it is given.

``smtp`` (a fixture, shared through tests/conftest.py's ``pytest_plugins``) serves for the whole test; a test
that needs the server down first picks a ``free_port`` and starts ``serving`` on it later.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session


class Inbox:
    """An SMTP server's handler keeping every message it is given, as parsed and as received; it refuses for good
    (550) the recipients in ``refusing``."""

    def __init__(self, refusing: frozenset[str] = frozenset()) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.refusing = refusing
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refusing:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        content = envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
            self.raw.append(raw)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    """A port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(port: int, inbox: Inbox | None = None) -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1:``port`` until the block ends, delivering into ``inbox`` (a new one if None)."""
    kept = inbox or Inbox()
    controller = Controller(kept, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield kept
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    port = free_port()
    with serving(port) as inbox:
        yield inbox, port
