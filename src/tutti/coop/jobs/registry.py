"""Every kind of background job, declared once: workers run these, and the README's table documents each."""

from __future__ import annotations

from tutti.coop.contributions.validation import VALIDATE_CONTRIBUTION
from tutti.coop.governance.jobs import CLOSE_VOTE, SEND_VOTE_NOTICES
from tutti.coop.jobs.housekeeping import PURGE_EXPIRED, RECONCILE_POOL, REMOVE_LEFTOVERS
from tutti.coop.jobs.kinds import JobKind
from tutti.coop.jobs.outbox import SEND_OUTBOX
from tutti.coop.sales.preview import PREVIEW_SALE
from tutti.coop.sales.releases import BUILD_RELEASE

KINDS: tuple[JobKind, ...] = (
    VALIDATE_CONTRIBUTION,
    PURGE_EXPIRED,
    REMOVE_LEFTOVERS,
    RECONCILE_POOL,
    SEND_OUTBOX,
    CLOSE_VOTE,
    SEND_VOTE_NOTICES,
    PREVIEW_SALE,
    BUILD_RELEASE,
)
KINDS_BY_NAME: dict[str, JobKind] = {kind.name: kind for kind in KINDS}
