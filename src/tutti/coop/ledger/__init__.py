"""The cooperative's money: an exact double-entry ledger in integer minor units of one ISO 4217 currency.

A buyer's payment for a passed sale is posted as one transfer: the cooperative's fee (policy) and each included
member's share, split by weight with an exact largest-remainder rule (``split``); refunds reverse a payment in
proportion. Members' balances are paid out through ordinary rails (SEPA pain.001, PayPal and Wise CSV) in batches
a steward sends and settles line by line (``payouts``); each member gets a receipt per payment whose tree root is
signed into the public log (``receipts``). Transfers are idempotent by a client key, balanced by construction,
immutable (the database refuses updates and deletes) and audited; the invariants are in ``docs/ledger.md``.
"""
