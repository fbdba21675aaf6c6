"""The audit log's events, declared as data: only these can be recorded, and the log stores exactly their fields.

No event may carry an email, password, token, key or client address: field names are checked when this module
loads, values when an event is recorded (``chain``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    """Base of every audit event; ``kind`` names it in the log, ``member_id`` (when a field) is whom it concerns."""

    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def subject(self) -> str | None:
        value = getattr(self, "member_id", None)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class CooperativeFounded(Event):
    kind: ClassVar[str] = "cooperative-founded"
    description: ClassVar[str] = "The cooperative was created; the log starts here."
    name: str


@dataclass(frozen=True)
class MemberJoined(Event):
    kind: ClassVar[str] = "member-joined"
    description: ClassVar[str] = (
        "Someone joined (a signup on the web once its address is confirmed): admitted at once or placed on the "
        "waitlist."
    )
    member_id: str
    waitlisted: bool


@dataclass(frozen=True)
class MemberAdmitted(Event):
    kind: ClassVar[str] = "member-admitted"
    description: ClassVar[str] = "A member became active (at signup, or from the waitlist)."
    member_id: str


@dataclass(frozen=True)
class RoleChanged(Event):
    kind: ClassVar[str] = "role-changed"
    description: ClassVar[str] = "A member's role was set; ``changed_by`` is the steward (None at founding)."
    member_id: str
    role: str
    changed_by: str | None


@dataclass(frozen=True)
class CapacityChanged(Event):
    kind: ClassVar[str] = "capacity-changed"
    description: ClassVar[str] = (
        "How many members are admitted per day changed, by the passed proposal ``proposal_id`` (entries written "
        "before the capacity became a policy only a vote changes name the steward as ``member_id`` instead)."
    )
    capacity: int
    previous: int
    proposal_id: str | None = None
    member_id: str | None = None


@dataclass(frozen=True)
class ContributionAccepted(Event):
    kind: ClassVar[str] = "contribution-accepted"
    description: ClassVar[str] = "An upload passed validation; its plays joined the pool."
    member_id: str
    contribution_id: str
    plays_added: int
    score: int


@dataclass(frozen=True)
class ContributionRejected(Event):
    kind: ClassVar[str] = "contribution-rejected"
    description: ClassVar[str] = (
        "An upload failed validation; ``reasons`` are reason codes (``contributions.sealed_reports``): which checks "
        "failed, never what the member's files are called or hold (the worded report is sealed with their key)."
    )
    member_id: str
    contribution_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ContributionFlagged(Event):
    kind: ClassVar[str] = "contribution-flagged"
    description: ClassVar[str] = (
        "A rejected upload was flagged for the stewards as a near-copy of another member's history; "
        "``similarity`` is the share of its plays found there. Whose history it matched is for the stewards only."
    )
    member_id: str
    contribution_id: str
    similarity: float


@dataclass(frozen=True)
class ContributionHeld(Event):
    kind: ClassVar[str] = "contribution-held"
    description: ClassVar[str] = (
        "A contribution was held for the stewards in copy case ``case_id``: it shares its content with another "
        "member's history. It earns nothing and none of its plays are in the pool until the case is resolved."
    )
    member_id: str
    contribution_id: str
    case_id: str


@dataclass(frozen=True)
class CopyCaseResolved(Event):
    kind: ClassVar[str] = "copy-case-resolved"
    description: ClassVar[str] = (
        "A steward (``member_id``) resolved a copy case: ``owner_id`` (None: nobody) is whose history it is, "
        "``released`` their contributions now accepted, ``refused`` the others, now rejected, their evidence "
        "deleted; ``resolution`` is a reason code. ``withdrawn``: the member ``member_id`` withdrew, and their "
        "contributions in it are ``refused``."
    )
    member_id: str
    case_id: str
    owner_id: str | None
    resolution: str
    released: tuple[str, ...]
    refused: tuple[str, ...]


@dataclass(frozen=True)
class MemberExported(Event):
    kind: ClassVar[str] = "member-exported"
    description: ClassVar[str] = "A member downloaded everything the cooperative holds about them."
    member_id: str
    contributions: int


@dataclass(frozen=True)
class MemberWithdrew(Event):
    kind: ClassVar[str] = "member-withdrew"
    description: ClassVar[str] = "A member left; their data is erased."
    member_id: str


@dataclass(frozen=True)
class KeyDestroyed(Event):
    kind: ClassVar[str] = "key-destroyed"
    description: ClassVar[str] = "A member's data key was destroyed: every copy of their data is unreadable."
    member_id: str


@dataclass(frozen=True)
class MasterKeyRotated(Event):
    kind: ClassVar[str] = "master-key-rotated"
    description: ClassVar[str] = (
        "Every member key and the log's key were wrapped under a new master key and the old one destroyed: "
        "backups made before can no longer be opened. ``generation`` counts the master keys so far."
    )
    generation: int


@dataclass(frozen=True)
class BuyerApplied(Event):
    kind: ClassVar[str] = "buyer-applied"
    description: ClassVar[str] = "An organisation (the account ``member_id``) applied for a buyer account."
    member_id: str
    application_id: str


@dataclass(frozen=True)
class BuyerDecided(Event):
    kind: ClassVar[str] = "buyer-decided"
    description: ClassVar[str] = (
        "A steward (``member_id``) approved or refused a buyer application; an approval makes ``buyer_id`` a buyer."
    )
    member_id: str
    application_id: str
    buyer_id: str
    approved: bool


@dataclass(frozen=True)
class ProposalDrafted(Event):
    kind: ClassVar[str] = "proposal-drafted"
    description: ClassVar[str] = "A buyer drafted a sale, or a member a policy change (``proposal_kind``)."
    member_id: str
    proposal_id: str
    proposal_kind: str


@dataclass(frozen=True)
class ProposalOpened(Event):
    kind: ClassVar[str] = "proposal-opened"
    description: ClassVar[str] = (
        "A steward (``member_id``) opened a proposal's vote: its electorate (the active members then), quorum, "
        "threshold and weighting are frozen here, and the vote closes at ``closes_utc``."
    )
    member_id: str
    proposal_id: str
    electorate: int
    quorum_percent: int
    threshold: str
    weighting: str
    closes_utc: str


@dataclass(frozen=True)
class ProposalClosed(Event):
    kind: ClassVar[str] = "proposal-closed"
    description: ClassVar[str] = (
        "A vote closed: ``outcome`` (passed, failed, no-quorum), how many ballots were cast and the totals, and "
        "``ballots_sha256``, the hash of the published ballot list, so anyone can check that the list they "
        "recount is the one the log signed. No ballot and no voter is named."
    )
    proposal_id: str
    outcome: str
    ballots: int
    yes: int
    no: int
    abstain: int
    included: int
    ballots_sha256: str


@dataclass(frozen=True)
class ProposalExecuted(Event):
    kind: ClassVar[str] = "proposal-executed"
    description: ClassVar[str] = (
        "A passed proposal took effect: a policy change is in force, or a sale is ready for its release with "
        "``included`` members (fixed at close)."
    )
    proposal_id: str
    proposal_kind: str
    included: int


@dataclass(frozen=True)
class ProposalExpired(Event):
    kind: ClassVar[str] = "proposal-expired"
    description: ClassVar[str] = "A proposal ended without effect; ``reason`` is a code (e.g. ``buyer-gone``)."
    proposal_id: str
    reason: str


@dataclass(frozen=True)
class ConsentChanged(Event):
    kind: ClassVar[str] = "consent-changed"
    description: ClassVar[str] = (
        "A member changed their standing consent or opted in or out of a sale; what they chose is theirs and "
        "not in the log."
    )
    member_id: str


@dataclass(frozen=True)
class ReleaseBuilt(Event):
    kind: ClassVar[str] = "release-built"
    description: ClassVar[str] = (
        "A passed sale's release was built from ``members`` members' data by its recipe (name and version), "
        "spending ``epsilon`` and ``delta`` of the sale's privacy budget; ``manifest_sha256`` pins its files."
    )
    proposal_id: str
    release_id: str
    recipe: str
    recipe_version: int
    members: int
    epsilon: float
    delta: float
    manifest_sha256: str


@dataclass(frozen=True)
class ReleaseFailed(Event):
    kind: ClassVar[str] = "release-failed"
    description: ClassVar[str] = "A release could not be built; ``reason`` is a code (e.g. ``budget-spent``)."
    proposal_id: str
    release_id: str
    reason: str


@dataclass(frozen=True)
class ReleaseLinkMade(Event):
    kind: ClassVar[str] = "release-link-made"
    description: ClassVar[str] = (
        "The buyer made a download link to their release, valid until ``expires_utc`` for ``downloads`` downloads."
    )
    proposal_id: str
    release_id: str
    link_id: str
    downloads: int
    expires_utc: str


@dataclass(frozen=True)
class ReleaseDownloaded(Event):
    kind: ClassVar[str] = "release-downloaded"
    description: ClassVar[str] = "The buyer downloaded ``file`` of their release through link ``link_id``."
    proposal_id: str
    release_id: str
    link_id: str
    file: str


@dataclass(frozen=True)
class QueryAnswered(Event):
    kind: ClassVar[str] = "query-answered"
    description: ClassVar[str] = (
        "The buyer of a sale with query access asked an aggregate query of its recipe and got a noisy answer of "
        "``rows`` rows over ``members`` members, spending ``epsilon`` and ``delta`` of the sale's budget."
    )
    proposal_id: str
    query_id: str
    recipe: str
    rows: int
    members: int
    epsilon: float
    delta: float


@dataclass(frozen=True)
class QueryRefused(Event):
    kind: ClassVar[str] = "query-refused"
    description: ClassVar[str] = "A buyer's query was refused; ``reason`` is a code (``budget-spent``, ``expired``)."
    proposal_id: str
    reason: str


@dataclass(frozen=True)
class LedgerTransferPosted(Event):
    kind: ClassVar[str] = "ledger-transfer-posted"
    description: ClassVar[str] = (
        "A transfer was posted to the ledger (``ledger.transfers``): its kind (payment, refund, payout, "
        "payout-paid, payout-failed), total ``amount`` in minor units of ``currency``, how many postings, and the "
        "sale it concerns. Whose shares it moved is in members' receipts, not in the log."
    )
    transfer_id: str
    transfer_kind: str
    amount: int
    currency: str
    postings: int
    proposal_id: str | None


@dataclass(frozen=True)
class ReceiptsIssued(Event):
    kind: ClassVar[str] = "receipts-issued"
    description: ClassVar[str] = (
        "Every member's receipt for a payment or refund of a sale was issued: ``receipts_root`` is the Merkle tree "
        "head of the ``receipts`` salted receipt bodies, so each member can prove theirs is among them."
    )
    transfer_id: str
    proposal_id: str
    receipts: int
    receipts_root: str


@dataclass(frozen=True)
class PayoutDetailsChanged(Event):
    kind: ClassVar[str] = "payout-details-changed"
    description: ClassVar[str] = "A member set or removed where they are paid (``method``); the details are sealed."
    member_id: str
    method: str


@dataclass(frozen=True)
class PayoutBatchChanged(Event):
    kind: ClassVar[str] = "payout-batch-changed"
    description: ClassVar[str] = (
        "A steward (``member_id``) made, sent or settled a payout batch: its ``status`` and how many lines."
    )
    member_id: str
    batch_id: str
    status: str
    lines: int


EVENTS: tuple[type[Event], ...] = (
    CooperativeFounded,
    MemberJoined,
    MemberAdmitted,
    RoleChanged,
    CapacityChanged,
    ContributionAccepted,
    ContributionRejected,
    ContributionFlagged,
    ContributionHeld,
    CopyCaseResolved,
    MemberExported,
    MemberWithdrew,
    KeyDestroyed,
    MasterKeyRotated,
    BuyerApplied,
    BuyerDecided,
    ProposalDrafted,
    ProposalOpened,
    ProposalClosed,
    ProposalExecuted,
    ProposalExpired,
    ConsentChanged,
    ReleaseBuilt,
    ReleaseFailed,
    ReleaseLinkMade,
    ReleaseDownloaded,
    QueryAnswered,
    QueryRefused,
    LedgerTransferPosted,
    ReceiptsIssued,
    PayoutDetailsChanged,
    PayoutBatchChanged,
)
EVENT_TYPES: dict[str, type[Event]] = {cls.kind: cls for cls in EVENTS}

# Parts of a field name that would mean personal data or a secret in a public log.
FORBIDDEN_NAME_PARTS = frozenset({"email", "password", "token", "secret", "key", "ip", "agent", "csrf", "username"})


def check_declaration(cls: type[Event]) -> None:
    for f in dataclasses.fields(cls):
        if FORBIDDEN_NAME_PARTS & set(f.name.lower().split("_")):
            raise TypeError(f"audit event {cls.__name__} may not carry a field named {f.name!r}")


for _cls in EVENTS:
    check_declaration(_cls)
