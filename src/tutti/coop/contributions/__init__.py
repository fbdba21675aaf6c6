"""Contributions: an uploaded export read by the listener's own importers (``reading``), checked for consistency
between its files, plausibility (``plausibility``) and copies of other members' histories (``fingerprint``),
scored (``scoring``) and pooled; ``pipeline`` lists those stages in order."""
