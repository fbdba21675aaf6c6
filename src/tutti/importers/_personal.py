"""Export files that say who the listener is; no importer ever opens them."""

from __future__ import annotations

# Files that hold who the listener is, what they pay with or searched for: never opened.
PERSONAL_FILES = frozenset(
    name.lower()
    for name in (
        "Userdata.json",
        "Identity.json",
        "Identifiers.json",
        "Payments.json",
        "UserAddress.json",
        "FamilyPlan.json",
        "Inferences.json",
        "Marquee.json",
        "SearchQueries.json",
        "Follow.json",
        "user.json",
        "MessageData.json",
        "VoiceInput.json",
        "UserAttributes.json",
        "CustomerServiceHistoryAndSurveyData.json",
    )
)
