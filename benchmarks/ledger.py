"""The ledger at a cooperative's scale: a buyer's payment shared among every member, with a receipt for each, and
a payout batch of every balance.

Founds a cooperative on SQLite in a scratch folder (or in a fresh schema of ``--database-url``, a PostgreSQL
server), adds ``--members`` active members with contribution points and payout details, passes a sale that
includes them all, then times ``--repeats`` payments (each: fee, the exact split, one posting and one receipt per
member, the receipts' tree in the log) and one payout batch. Prints the median time of a payment and the time of
the batch, and checks the books after.

    python benchmarks/ledger.py [--members 20000] [--repeats 3] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from tutti.coop.bootstrap import found_cooperative
from tutti.coop.db import make_engine, session_factory, upgrade
from tutti.coop.governance import ballots, buyers, closing, proposals
from tutti.coop.ledger import payments, payouts
from tutti.coop.ledger.transfers import check_books
from tutti.coop.members import accounts, emails
from tutti.coop.models import Contribution, ContributionStatus, Member, Role, Status, new_id, new_pseudonym
from tutti.coop.settings import CoopSettings

OPENED = datetime(2026, 3, 2, 9, tzinfo=UTC)
PASSWORD = "kettle umbrella saxophone"
TERMS = {
    "price_minor": 10**12, "currency": "EUR", "purpose": "Recommendations.", "purpose_category": "ai-training",
    "data_kind": "aggregates", "duration_days": 365, "delivery": "files",
    "recipe": {"name": "artist-preferences", "version": 1, "parameters": {"top_n": 20, "epsilon": 1.0, "k": 20}},
}  # fmt: skip


def run(settings: CoopSettings, schema: str | None, members: int, repeats: int) -> None:
    engine = make_engine(settings.database_url, schema=schema)
    upgrade(engine)
    sessions = session_factory(engine, settings)
    with sessions.begin() as session:
        found_cooperative(session, settings, name="Bench", steward_email="s@example.org", steward_password=PASSWORD)
        steward = emails.find_member(session, settings, "s@example.org")
        assert steward is not None
        lab = accounts.signup(session, "lab@example.org", PASSWORD, now=OPENED - timedelta(days=1))
        buyers.decide(session, steward, buyers.apply(session, lab, "Lab", "researcher", "Research.").id, True)
        sale = proposals.draft_sale(session, lab, "Bench sale", dict(TERMS))
        proposals.open_vote(session, steward, sale.id, now=OPENED)
        ballots.cast(session, steward, sale, "yes", now=OPENED + timedelta(hours=1))
        ids = [new_id() for _ in range(members)]
        session.add_all(Member(id=i, role=Role.MEMBER, status=Status.ACTIVE, pseudonym=new_pseudonym(),
                               created_utc=OPENED, activated_utc=OPENED) for i in ids)  # fmt: skip
        session.flush()
        session.add_all(Contribution(member_id=i, status=ContributionStatus.ACCEPTED, score=n % 997 + 1,
                                     created_utc=OPENED) for n, i in enumerate(ids))  # fmt: skip
        details = payouts.check_details("iban", "A Member", "DE89370400440532013000")
        for i in ids:
            payouts.set_details(session, settings, session.get_one(Member, i), details)
        steward_id, sale_id = steward.id, sale.id
    with sessions.begin() as session:
        closing.close(session, sale_id, now=OPENED + timedelta(days=8))
    times = []
    for n in range(repeats):
        start = time.perf_counter()
        with sessions.begin() as session:
            payments.record_payment(session, session.get_one(Member, steward_id), sale_id, 10**8, f"bench-{n}")
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    with sessions.begin() as session:
        batch = payouts.create_batch(session, settings, session.get_one(Member, steward_id), "iban")
        lines = len(payouts.lines_of(session, batch.id))
    batched = time.perf_counter() - start
    with sessions() as session:
        assert check_books(session).ok
    print(f"{engine.dialect.name}, {members:,} members: a payment takes {statistics.median(times):.2f} s (median of "
          f"{repeats}); a payout batch of {lines:,} lines {batched:.2f} s")  # fmt: skip

    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if args.database_url is None:
            run(CoopSettings.for_tests(folder / "coop", f"sqlite:///{folder / 'coop.sqlite'}"), None,
                args.members, args.repeats)  # fmt: skip
            return
        schema = f"bench_ledger_{secrets.token_hex(4)}"
        admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            run(CoopSettings.for_tests(folder / "coop", args.database_url), schema, args.members, args.repeats)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
