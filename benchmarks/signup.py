"""Signup's answer time for a new address and for a taken one, at the production password cost.

Signup must not tell whether an address has an account, by its answer or by how long it takes: both ways check
and hash the password (Argon2id at the default cost, 64 MiB and 3 passes) and send one message. This starts the
real app on SQLite in a scratch folder (messages kept in its outbox, as without a mail server), then alternates
signups of new addresses and of one taken address through the API, and prints the median time of each and their
ratio. Alternating keeps the machine's other load from favouring one side.

    python benchmarks/signup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from tutti.coop.bootstrap import found_cooperative
from tutti.coop.db import make_engine, session_factory, upgrade
from tutti.coop.limits import Rule
from tutti.coop.settings import DEFAULT_PASSWORD_MEMORY_KIB, DEFAULT_PASSWORD_TIME_COST, CoopSettings
from tutti.web.app import create_app

PASSWORD = "kettle umbrella saxophone"
TAKEN = "steward@example.org"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        settings = replace(
            CoopSettings.for_tests(folder / "coop", f"sqlite:///{folder / 'coop.sqlite'}"),
            password_time_cost=DEFAULT_PASSWORD_TIME_COST,
            password_memory_kib=DEFAULT_PASSWORD_MEMORY_KIB,
        )
        settings = replace(settings, limits={**settings.limits, "signup-client": Rule(10_000, 3600)})
        engine = make_engine(settings.database_url)
        upgrade(engine)
        with session_factory(engine, settings).begin() as session:
            found_cooperative(session, settings, name="Bench", steward_email=TAKEN, steward_password=PASSWORD)
        new: list[float] = []
        taken: list[float] = []
        app = create_app(settings, engine=engine, admit_every=None, workers=0)
        with TestClient(app) as client:
            for n in range(args.runs + 1):
                for address, times in ((f"new{n}@example.org", new), (TAKEN, taken)):
                    start = time.perf_counter()
                    answer = client.post("/api/signup", json={"email": address, "password": PASSWORD})
                    elapsed = time.perf_counter() - start
                    assert answer.status_code == 202, answer.text
                    if n:  # the first round warms caches up
                        times.append(elapsed)
        engine.dispose()
    new_ms, taken_ms = statistics.median(new) * 1000, statistics.median(taken) * 1000
    print(f"signup, new address:   median {new_ms:7.1f} ms over {len(new)} runs")
    print(f"signup, taken address: median {taken_ms:7.1f} ms over {len(taken)} runs")
    print(f"taken / new: {taken_ms / new_ms:.3f}")


if __name__ == "__main__":
    main()
