"""What members can do in the cooperative, declared as data: who may act, and what the audit log records.

Every governed function starts with ``require(ACTION, member)``; the web layer asks ``allowed`` to decide
what to show. New actions (propose-sale, cast-vote, approve-release, issue-payout) are added here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutti.coop import audit
from tutti.coop.errors import NotAllowed
from tutti.coop.models import Member, Role, Status

EVERY_ROLE = frozenset(Role)
MEMBERS_WITH_DATA = frozenset({Role.MEMBER, Role.STEWARD})


@dataclass(frozen=True)
class Action:
    """One thing a member (or a visitor, for signup) can do."""

    name: str
    description: str
    # Roles that may take the action; empty means no account is needed.
    roles: frozenset[Role]
    # Statuses the actor must be in (withdrawn members can do nothing; waitlisted ones only a few things).
    statuses: frozenset[Status]
    events: tuple[type[audit.Event], ...]


SIGNUP = Action(
    "signup",
    "Ask to join: admitted at once while today's capacity lasts, otherwise placed on the waitlist.",
    roles=frozenset(),
    statuses=frozenset(),
    events=(audit.MemberJoined, audit.MemberAdmitted),
)
SET_ROLE = Action(
    "set-role",
    "Make a member a steward, a buyer or a plain member again.",
    roles=frozenset({Role.STEWARD}),
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.RoleChanged,),
)
CONTRIBUTE = Action(
    "contribute",
    "Upload an export; validated plays join the pool under the member's pseudonym.",
    roles=MEMBERS_WITH_DATA,
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.ContributionAccepted, audit.ContributionRejected, audit.ContributionFlagged, audit.ContributionHeld),
)
RESOLVE_CASE = Action(
    "resolve-case",
    "Decide whose history a copy case holds: the owner's contributions are accepted, the others rejected.",
    roles=frozenset({Role.STEWARD}),
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.CopyCaseResolved, audit.ContributionAccepted, audit.ContributionRejected),
)
EXPORT_DATA = Action(
    "export-data",
    "Download everything the cooperative holds about oneself.",
    roles=EVERY_ROLE,
    statuses=frozenset({Status.ACTIVE, Status.WAITLISTED}),
    events=(audit.MemberExported,),
)
WITHDRAW = Action(
    "withdraw",
    "Leave the cooperative: the member's data key is destroyed and their data erased.",
    roles=EVERY_ROLE,
    statuses=frozenset({Status.ACTIVE, Status.WAITLISTED}),
    events=(audit.MemberWithdrew, audit.KeyDestroyed),
)

APPLY_AS_BUYER = Action(
    "apply-as-buyer",
    "Ask, for an organisation, for a buyer account: stewards approve or refuse.",
    roles=EVERY_ROLE,
    statuses=frozenset({Status.ACTIVE, Status.WAITLISTED}),
    events=(audit.BuyerApplied,),
)
DECIDE_BUYER = Action(
    "decide-buyer",
    "Approve or refuse an organisation's buyer application.",
    roles=frozenset({Role.STEWARD}),
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.BuyerDecided, audit.RoleChanged),
)
PROPOSE_SALE = Action(
    "propose-sale",
    "Draft a data sale or licence for the members to vote on (a buyer sees only their own drafts).",
    roles=frozenset({Role.BUYER}),
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.ProposalDrafted,),
)
PROPOSE_POLICY = Action(
    "propose-policy",
    "Draft a change of the cooperative's policy for the members to vote on.",
    roles=MEMBERS_WITH_DATA,
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.ProposalDrafted,),
)
OPEN_VOTE = Action(
    "open-vote",
    "Open a draft's vote: its electorate, quorum and threshold are frozen then.",
    roles=frozenset({Role.STEWARD}),
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.ProposalOpened,),
)
CAST_VOTE = Action(
    "cast-vote",
    "Vote on an open proposal by secret ballot, or change one's ballot with its receipt until the vote closes. "
    "The log shows no ballot and no voter: only the count at close.",
    roles=MEMBERS_WITH_DATA,
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.ProposalClosed,),
)
SET_CONSENT = Action(
    "set-consent",
    "Say what one's data may be sold for, opt out of one sale until its vote closes, choose governance emails.",
    roles=MEMBERS_WITH_DATA,
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.ConsentChanged,),
)

DOWNLOAD_RELEASE = Action(
    "download-release",
    "Make a download link to the release of one's own passed sale, and download its files with it (buyers only; "
    "links expire and allow a number of downloads).",
    roles=frozenset({Role.BUYER}),
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.ReleaseLinkMade, audit.ReleaseDownloaded),
)
QUERY_SALE = Action(
    "query-sale",
    "Ask an aggregate query of the recipe of one's own passed sale with query access; each answer is noised and "
    "spends from the sale's privacy budget, and none comes once it is spent.",
    roles=frozenset({Role.BUYER}),
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.QueryAnswered, audit.QueryRefused),
)
RECORD_PAYMENT = Action(
    "record-payment",
    "Record a buyer's payment or a refund for a passed sale: the fee is taken and the rest split among the members "
    "the sale includes; every member gets a receipt.",
    roles=frozenset({Role.STEWARD}),
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.LedgerTransferPosted, audit.ReceiptsIssued),
)
SET_PAYOUT_DETAILS = Action(
    "set-payout-details",
    "Say where one is paid: an IBAN, or a PayPal or Wise email, sealed with one's own key.",
    roles=MEMBERS_WITH_DATA,
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.PayoutDetailsChanged,),
)
ISSUE_PAYOUT = Action(
    "issue-payout",
    "Batch the balances above the minimum into a payout file, mark it sent, then each line paid or failed.",
    roles=frozenset({Role.STEWARD}),
    statuses=frozenset({Status.ACTIVE}),
    events=(audit.PayoutBatchChanged, audit.LedgerTransferPosted),
)

ACTIONS: tuple[Action, ...] = (
    SIGNUP,
    SET_ROLE,
    CONTRIBUTE,
    RESOLVE_CASE,
    EXPORT_DATA,
    WITHDRAW,
    APPLY_AS_BUYER,
    DECIDE_BUYER,
    PROPOSE_SALE,
    PROPOSE_POLICY,
    OPEN_VOTE,
    CAST_VOTE,
    SET_CONSENT,
    DOWNLOAD_RELEASE,
    QUERY_SALE,
    RECORD_PAYMENT,
    SET_PAYOUT_DETAILS,
    ISSUE_PAYOUT,
)
ACTIONS_BY_NAME: dict[str, Action] = {action.name: action for action in ACTIONS}


def allowed(action: Action, member: Member | None) -> bool:
    if not action.roles:
        return member is None
    return member is not None and member.role in action.roles and member.status in action.statuses


def require(action: Action, member: Member | None) -> None:
    """Nothing if ``member`` (None: a visitor) may take ``action``; NotAllowed saying who may, otherwise."""
    if allowed(action, member):
        return
    if not action.roles:
        raise NotAllowed(f"{action.name} is for people without an account")
    who = " or ".join(sorted(role.value for role in action.roles))
    states = " or ".join(sorted(status.value for status in action.statuses))
    raise NotAllowed(f"{action.name} needs an account that is {states}, with the role {who}")
