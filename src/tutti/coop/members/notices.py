"""What the cooperative writes to a member about their account, declared as data and sent as mail
(``tutti.coop.mail``).

Signup answers the same whether or not an address has an account, so the address's owner learns by mail
instead: a new member is welcomed with the link that confirms the address (``WELCOME``; no login before), and
the owner of an existing account is told that someone tried to sign up with it (``ALREADY_A_MEMBER``): nothing
changed, and nothing need be done.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

from tutti.coop import mail
from tutti.coop.settings import CoopSettings


@dataclass(frozen=True)
class Notice:
    """A message's subject and body, with ``{coop}``, ``{site}`` and ``{link}`` to fill in."""

    subject: str
    body: str

    def compose(self, settings: CoopSettings, to: str, coop: str, site: str, link: str = "") -> EmailMessage:
        body = self.body.format(coop=coop, site=site, link=link)
        return mail.message(settings, to, self.subject.format(coop=coop), body)


WELCOME = Notice(
    "Welcome to {coop}",
    "Your account at {coop} is made. Confirm that this address is yours by opening this link (it works for "
    "7 days):\n\n{link}\n\nThen log in at {site}/login with this address and the password you chose.\n\n"
    "If it was not you who signed up, do nothing: without the link, nobody can log in to the account.\n",
)
ALREADY_A_MEMBER = Notice(
    "Someone tried to sign up at {coop} with your address",
    "Someone tried to make an account at {coop} with this address, which already has one. Nothing was changed: "
    "your account and your password are as they were.\n\nIf it was you, log in at {site}/login. If not, there "
    "is nothing to do.\n",
)
