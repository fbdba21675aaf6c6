"""The audit log: what happened in the cooperative, as declared events on a signed hash chain anyone can check.

``events`` declares every kind of event (and refuses fields that could carry personal data or secrets);
``chain`` appends them, verifies the chain and reads a member's events back. Callers use this package's names:
``audit.record(session, audit.MemberJoined(...))``.
"""

from tutti.coop.audit.chain import events_about, link_hash, load_event, record, verify_chain
from tutti.coop.audit.events import (
    EVENT_TYPES,
    EVENTS,
    FORBIDDEN_NAME_PARTS,
    CapacityChanged,
    ContributionAccepted,
    ContributionFlagged,
    ContributionHeld,
    ContributionRejected,
    CooperativeFounded,
    CopyCaseResolved,
    Event,
    KeyDestroyed,
    MasterKeyRotated,
    MemberAdmitted,
    MemberExported,
    MemberJoined,
    MemberWithdrew,
    RoleChanged,
    check_declaration,
)

__all__ = [
    "EVENTS",
    "EVENT_TYPES",
    "FORBIDDEN_NAME_PARTS",
    "CapacityChanged",
    "ContributionAccepted",
    "ContributionFlagged",
    "ContributionHeld",
    "ContributionRejected",
    "CooperativeFounded",
    "CopyCaseResolved",
    "Event",
    "KeyDestroyed",
    "MasterKeyRotated",
    "MemberAdmitted",
    "MemberExported",
    "MemberJoined",
    "MemberWithdrew",
    "RoleChanged",
    "check_declaration",
    "events_about",
    "link_hash",
    "load_event",
    "record",
    "verify_chain",
]
