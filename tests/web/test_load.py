"""A burst of uploads against the running server (``tutti coop serve`` and ``tutti coop worker`` processes),
on SQLite and PostgreSQL: no upload fails, each is validated exactly once, and another page answers within a
second all along.

How fast is for ``benchmarks/load.py`` (100 uploads, latencies printed); here only what must hold.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import samples_path
from tests.coop.conftest import EmptyDb, cli_database_url
from tests.helpers.load import burst, exports_in, running_cooperative

pytestmark = [pytest.mark.samples, pytest.mark.alone]

UPLOADS = 12
# The smaller real exports, so that validating the burst takes a minute, not ten.
SMALL = 1024**2


def test_a_burst_of_uploads_is_stored_and_validated_once_while_other_pages_answer(
    empty_db: EmptyDb, tmp_path: Path
) -> None:
    exports = [e for e in exports_in(samples_path()) if sum(len(data) for _n, data in e) < SMALL]
    assert len(exports) >= 4
    chosen = [exports[n % len(exports)] for n in range(UPLOADS)]
    url = cli_database_url(empty_db) if empty_db.kind == "postgresql" else f"sqlite:///{tmp_path / 'load.sqlite'}"
    with running_cooperative(tmp_path, url, members=UPLOADS + 1) as cooperative:
        prober = cooperative.tokens.pop()
        result = asyncio.run(burst(cooperative, chosen, prober=prober, timeout=600))
    assert result.errors == []
    assert len(result.contribution_ids) == UPLOADS
    assert sum(result.statuses.values()) == UPLOADS and result.statuses["pending"] == 0
    # Validated exactly once: one decision in the log per upload, one attempt per job, every job done.
    assert result.validated_once == UPLOADS, result.decisions
    assert result.job_attempts == {1: UPLOADS} and result.jobs_not_done == 0
    assert result.probe_failures == [] and len(result.probe_seconds) > 0
    # The requirement, measured against the running server: every answer of the other page within a
    # second while the uploads arrive and are validated.
    assert result.slow_probes == [], result.summary()
