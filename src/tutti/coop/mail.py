"""The cooperative's outbox: ``send`` delivers a message by SMTP or keeps it in a folder; ``retry_kept`` sends
what was kept once a server answers.

With ``TUTTI_COOP_SMTP_HOST`` set, messages go to that server (STARTTLS by default, or TLS from the start, or
plain on a trusted local relay). Without it, and whenever the server cannot be reached, each message is written
as an ``.eml`` file (readable by the owner only) to the ``outbox`` folder of the data folder: a message is never
lost, and a request never fails because mail did. With a server set, the ``send-outbox`` job hands the kept
messages to it, oldest first, as they were kept, and deletes each once the server took it (``retry_kept``);
without one, an operator's own mailer, or a person, can pick them up. A message the server refuses for good is
renamed ``.eml.refused`` and left for the operator.

A message is written under a hidden ``.partial`` name and renamed once whole, so no reader ever sees half of one
(housekeeping removes a ``.partial`` a crash left). Addresses and bodies are never logged; a failure is logged by
its kind only. A kept message about a member is named with the member's id, so a withdrawal deletes it with the
member's other files (``kept_about``).
"""

from __future__ import annotations

import email
import email.policy
import fcntl
import logging
import os
import re
import secrets
import smtplib
import ssl
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path

from tutti.coop.models import utcnow
from tutti.coop.settings import CoopSettings, MailSettings

OUTBOX = "outbox"
KEPT_SUFFIX = ".eml"
REFUSED_SUFFIX = ".eml.refused"
TIMEOUT_SECONDS = 20
# Messages one run of ``retry_kept`` hands to the server at most: a backlog drains over a few runs, each short.
RETRY_LIMIT = 200
_log = logging.getLogger(__name__)


def message(settings: CoopSettings, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the cooperative's sender address."""
    mail = EmailMessage()
    mail["From"] = settings.mail.sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid(domain=settings.mail.sender.rpartition("@")[2] or None)
    mail.set_content(body)
    return mail


def send(settings: CoopSettings, mail: EmailMessage, *, about: str) -> Path | None:
    """Deliver ``mail`` (about the member whose id is ``about``) by SMTP when a host is set; otherwise, or when
    delivery fails, keep it in the outbox folder. The file's path when it was kept, None when it was delivered."""
    if settings.mail.host:
        try:
            with _connect(settings.mail) as server:
                server.send_message(mail)
            return None
        except (OSError, smtplib.SMTPException) as exc:
            _log.warning("mail could not be delivered by SMTP (%s); kept in the outbox", type(exc).__name__)
    return _keep(settings.data_dir / OUTBOX, mail, about)


def kept(settings: CoopSettings) -> list[Path]:
    """The messages waiting in the outbox, oldest first (names start with the time they were kept)."""
    folder = settings.data_dir / OUTBOX
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"*{KEPT_SUFFIX}") if not p.name.startswith("."))


def kept_about(settings: CoopSettings, member_id: str) -> list[Path]:
    """The messages about a member still in the outbox, waiting or refused by the server."""
    folder = settings.data_dir / OUTBOX
    if not folder.is_dir():
        return []
    return sorted(p for suffix in (KEPT_SUFFIX, REFUSED_SUFFIX) for p in folder.glob(f"*-{member_id}-*{suffix}"))


def about_of(path: Path) -> str:
    """The id of the member a kept message is about (its name is ``<time>-<member id>-<random>.eml``)."""
    return path.name.split("-", 1)[1].rsplit("-", 1)[0]


@dataclass(frozen=True)
class Retried:
    """What ``retry_kept`` did, counted: messages the server took (and were deleted), refused for good (renamed
    ``.eml.refused``), could not read (no sender or no recipient; left as they are), and still waiting."""

    sent: int
    refused: int
    unreadable: int
    waiting: int


def retry_kept(settings: CoopSettings, *, limit: int = RETRY_LIMIT) -> Retried:
    """With a mail server set, hand it the kept messages, oldest first and ``limit`` at most, over one connection,
    each byte for byte as kept; delete each once the server took it. When the server cannot be reached or drops
    the connection, stop there: the rest wait for the next run. Without a server, do nothing."""
    waiting = kept(settings)
    if not settings.mail.host or not waiting:
        return Retried(0, 0, 0, len(waiting))
    outcomes: Counter[str] = Counter()
    try:
        with _connect(settings.mail) as server:
            for path in waiting:
                if outcomes["sent"] + outcomes["refused"] + outcomes["put off"] >= limit:
                    break
                outcomes[_resend(server, path)] += 1
    except (OSError, smtplib.SMTPException) as exc:
        _log.warning("the outbox could not reach the mail server (%s); the next run tries again", type(exc).__name__)
    return Retried(outcomes["sent"], outcomes["refused"], outcomes["unreadable"], len(kept(settings)))


def _resend(server: smtplib.SMTP, path: Path) -> str:
    """Hand one kept message to ``server``: "sent", "refused", "put off", "unreadable", or "skipped" (gone, or
    another process is sending it). A lost connection is raised for ``retry_kept`` to stop at."""
    with _claimed(path) as raw:
        if raw is None:
            return "skipped"
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        sender = getaddresses([str(v) for v in parsed.get_all("Sender", parsed.get_all("From", []))])
        recipients = [a for _, a in getaddresses([str(v) for f in ("To", "Cc") for v in parsed.get_all(f, [])]) if a]
        if not sender or not sender[0][1] or not recipients:
            _log.warning("a kept message names no sender or no recipient; left in the outbox for the operator")
            return "unreadable"
        utf8 = not all(a.isascii() for a in [sender[0][1], *recipients])
        try:
            # Kept with the lines ending as Python writes them; SMTP wants CRLF, and smtplib fixes only a str's.
            wire = re.sub(rb"\r?\n", b"\r\n", raw)
            server.sendmail(sender[0][1], recipients, wire, mail_options=["SMTPUTF8"] if utf8 else [])
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            codes = _codes(exc)
            if codes and min(codes) >= 500:
                _log.warning("the mail server refused a kept message for good (%d); renamed .refused", min(codes))
                path.rename(path.with_name(path.name.removesuffix(KEPT_SUFFIX) + REFUSED_SUFFIX))
                return "refused"
            _log.warning("the mail server put off a kept message (%s); it waits for the next run", codes)
            return "put off"
        path.unlink(missing_ok=True)
        return "sent"


def _codes(exc: smtplib.SMTPException) -> list[int]:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return [int(code) for code, _ in exc.recipients.values()]
    return [exc.smtp_code] if isinstance(exc, smtplib.SMTPResponseException) else []


@contextmanager
def _claimed(path: Path) -> Iterator[bytes | None]:
    """The file's bytes while this process holds its lock, None when it is gone or another holds it: two runs at
    once (a job taken over) never both send one message. The lock goes with the process, so a crash frees it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield None
        return
    with os.fdopen(fd, "rb") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        # Sent and deleted by another run between our open and our lock: this is an orphan now.
        yield None if os.fstat(file.fileno()).st_nlink == 0 else file.read()


@contextmanager
def _connect(settings: MailSettings) -> Iterator[smtplib.SMTP]:
    host = settings.host or "localhost"
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if settings.security == "tls":
        server = smtplib.SMTP_SSL(host, settings.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        server = smtplib.SMTP(host, settings.port, timeout=TIMEOUT_SECONDS)
    with server:
        if settings.security == "starttls":
            server.starttls(context=context)
        if settings.user:
            server.login(settings.user, settings.password or "")
        yield server


def _keep(folder: Path, mail: EmailMessage, about: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{utcnow():%Y%m%dT%H%M%S}-{about}-{secrets.token_hex(4)}{KEPT_SUFFIX}"
    # Hidden, and named as remove-leftovers expects of what a crash left mid-write.
    path, partial = folder / name, folder / f".{name}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(mail.as_bytes())
    partial.rename(path)  # whole, or not there: ``retry_kept`` never sends half a message
    return path
