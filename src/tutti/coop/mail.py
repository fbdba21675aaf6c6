"""The cooperative's outbox: one function, ``send``, that delivers a message by SMTP or keeps it in a folder.

With ``TUTTI_COOP_SMTP_HOST`` set, messages go to that server (STARTTLS by default, or TLS from the start, or
plain on a trusted local relay). Without it, and whenever the server cannot be reached, each message is written
as an ``.eml`` file (readable by the owner only) to the ``outbox`` folder of the data folder, where an operator's
own mailer, or a person, can pick it up: a message is never lost, and a request never fails because mail did.
Addresses and bodies are never logged; a failure is logged by its kind only. A kept message about a member is
named with the member's id, so a withdrawal deletes it with the member's other files (``kept_about``).
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from tutti.coop.models import utcnow
from tutti.coop.settings import CoopSettings, MailSettings

OUTBOX = "outbox"
TIMEOUT_SECONDS = 20
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
            _smtp(settings.mail, mail)
            return None
        except (OSError, smtplib.SMTPException) as exc:
            _log.warning("mail could not be delivered by SMTP (%s); kept in the outbox", type(exc).__name__)
    return _keep(settings.data_dir / OUTBOX, mail, about)


def kept_about(settings: CoopSettings, member_id: str) -> list[Path]:
    """The messages about a member still waiting in the outbox."""
    folder = settings.data_dir / OUTBOX
    return sorted(folder.glob(f"*-{member_id}-*.eml")) if folder.is_dir() else []


def _smtp(settings: MailSettings, mail: EmailMessage) -> None:
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
        server.send_message(mail)


def _keep(folder: Path, mail: EmailMessage, about: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{utcnow():%Y%m%dT%H%M%S}-{about}-{secrets.token_hex(4)}.eml"
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(mail.as_bytes())
    return path
