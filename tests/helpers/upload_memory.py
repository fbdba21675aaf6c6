"""Peak memory of a validation worker taking one upload, measured in a process of its own.

``python -m tests.helpers.upload_memory UPLOAD WORKDIR`` founds a cooperative on SQLite in ``WORKDIR``, has a
member upload a small real-format export first (so imports and caches are warm), then the file ``UPLOAD``,
and validates each as ``tutti coop worker`` does (seal, store, job). It prints one JSON line: the upload's
status and reasons, the growth of the process's peak resident memory (``ru_maxrss``) while the second upload was
sealed and validated, and the peak of memory Python allocated meanwhile (``tracemalloc``).
"""

from __future__ import annotations

import json
import resource
import sys
import tracemalloc
from pathlib import Path

from tests.conftest import DATA
from tutti.coop import crypto
from tutti.coop.bootstrap import create_cooperative
from tutti.coop.contributions import uploads, validation
from tutti.coop.db import make_engine, session_factory, upgrade
from tutti.coop.jobs.worker import Worker
from tutti.coop.members import accounts
from tutti.coop.models import Contribution, Member
from tutti.coop.scratch import scratch_folder
from tutti.coop.settings import CoopSettings


def main(upload: Path, workdir: Path) -> dict[str, object]:
    settings = CoopSettings.for_tests(workdir / "coop", f"sqlite:///{workdir / 'coop.sqlite'}")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = session_factory(engine, settings)
    with sessions.begin() as session:
        create_cooperative(session, settings, "Memory test cooperative")
        member_id = accounts.signup(session, "bomb@example.org", "a long enough passphrase").id
    worker = Worker(sessions, settings, [validation.VALIDATE_CONTRIBUTION], poll=0.01)

    def contribute(paths: list[Path]) -> Contribution:
        with sessions.begin() as session:
            key = crypto.member_key(session, session.get_one(Member, member_id), settings)
        with scratch_folder(settings, "upload-") as scratch:
            sealed = uploads.seal(paths, key, scratch / "sealed")
            with sessions.begin() as session:
                cid = validation.submit(session, settings, session.get_one(Member, member_id), sealed).id
        assert worker.drain() == 1
        with sessions() as session:
            return session.get_one(Contribution, cid)

    contribute(sorted((DATA / "spotify_extended").glob("*.json")))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    row = contribute([upload])
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    engine.dispose()
    return {
        "status": row.status.value,
        "reasons": list(row.reasons or []),
        "rss_growth": after - before,
        "traced_peak": traced,
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
