"""Governance: how the members decide together, and how a decision is the only way anything happens.

Organisations apply for a buyer account and stewards decide (``buyers``); buyers draft sales and members draft
policy changes, typed and versioned (``terms``), which stewards open for a vote with the electorate, quorum and
threshold frozen at that moment (``proposals``, ``rules``); members vote by secret ballots that anyone can recount
once they are published (``ballots``); members say what their data may be sold for, and may opt out of one sale
(``consent``); the close (a job, ``jobs``) counts the ballots, fixes who a sale includes and executes a passed
proposal through one function (``execution``), which is the only code that changes the cooperative's policy
(``policy``) or marks a sale ready for its release; members are told by email as they chose (``notices``).
The trust model of the ballots is written in docs/governance.md.
"""
