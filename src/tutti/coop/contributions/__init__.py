"""Contributions: an uploaded export validated in one pass (``pipeline``): read by the listener's own importers
(``reading``), checked for consistency between its files and plausibility (``checking``), fingerprinted and
compared with other members' histories (``copies``), scored (``scoring``), decided against what changed meanwhile
(``deciding``), sealed (``sealing``) and pooled (``pooling``); its outcome is a typed, versioned ``report``.
Uploads wait sealed (``uploads``) for a background job that runs the pass (``validation``); ``queries`` answers
what members and stewards look up."""
