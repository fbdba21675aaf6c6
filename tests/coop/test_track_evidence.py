"""Track lengths and identifiers checked against what other members' plays show, on SQLite and PostgreSQL.

Calibration: every real export in ../shared/samples is checked against the evidence of all the other people's
exports (leave one person out): none fails either check. Attack: a real history retold with another member's
real track names (its lengths then invented for those tracks), and the same with each name under another real
track's URI, is rejected and earns nothing, while the evidence keeps no member id.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import inspect, select

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, give, join
from tests.helpers.fabrications import extended_records_of, renamed, write_records
from tutti.coop.contributions import evidence, reading
from tutti.coop.models import Contribution, ContributionStatus, TrackEvidence
from tutti.coop.pool.contract import play_identity

pytestmark = pytest.mark.samples

MICA = ("spotify-extended", "mica-92")
CANDIDLYRED = ("spotify-extended", "candidlyred")


@functools.cache
def _exports() -> dict[str, pa.Table]:
    """Every real export as pool rows, by ``format/person``."""
    found = {}
    for folder in sorted(p for p in samples_path().glob("*/*") if p.is_dir()):
        paths = sorted(p for p in folder.rglob("*") if p.is_file())
        rows = play_identity(reading.read_upload(paths).table)
        if rows.num_rows:
            found[f"{folder.parent.name}/{folder.name}"] = rows
    return found


def _person(export: str) -> str:
    return export.split("/")[1].split("-20")[0]  # fedecalendino-2020-11 and -2021-01 are one person


def test_no_real_export_contradicts_the_others(coop_db: CoopDb) -> None:
    exports = _exports()
    assert len(exports) >= 15
    with coop_db.sessions() as session:
        for export, rows in exports.items():
            others = session.begin_nested()
            for other, other_rows in exports.items():
                if _person(other) != _person(export):
                    evidence.learn(session, other_rows)
            checks = evidence.check(session, rows)
            others.rollback()
            assert all(c.passed for c in checks), (export, [c.reason for c in checks])
            # Reports explain without the limits.
            assert all(c.threshold == "set on real exports" for c in checks)


@pytest.mark.parametrize("uris", ["their own", "another track's"])
def test_a_history_retold_with_real_names_is_rejected_and_earns_nothing(
    coop_db: CoopDb, tmp_path: Path, uris: str
) -> None:
    db = coop_db
    owner, teller = join(db, "mica@example.org"), join(db, "teller@example.org")
    genuine = give(db, owner, [samples_path(*MICA)])
    assert genuine.accepted
    fabricated = renamed(extended_records_of(*CANDIDLYRED), extended_records_of(*MICA), uris=uris)
    told = give(db, teller, [write_records(tmp_path / "told", "Streaming_History_Audio_2023.json", fabricated)])
    assert told.status is ContributionStatus.REJECTED and told.points == 0 and told.plays_added == 0
    failed = {c.name for c in (told.plausibility.checks if told.plausibility else ()) if c.applicable and not c.passed}
    # Its lengths are invented either way; the URIs, only when each name carries another track's.
    assert failed == ({"track_lengths"} if uris == "their own" else {"track_lengths", "identifiers"})
    assert any(code == f"implausible:{name}" for name in failed for code in told.codes)
    # The same history under its own names is genuine, and passes.
    own = give(db, teller, [samples_path(*CANDIDLYRED)])
    assert own.accepted, own.reasons


def test_the_evidence_keeps_no_member_id(coop_db: CoopDb) -> None:
    columns = {c["name"] for c in inspect(coop_db.sessions.kw["bind"]).get_columns("track_evidence")}
    assert columns == {"kind", "key", "value", "votes"}
    member = join(coop_db, "mica@example.org")
    assert give(coop_db, member, [samples_path(*MICA)]).accepted
    with coop_db.sessions() as session:
        rows = session.scalars(select(TrackEvidence)).all()
        contribution = session.scalars(select(Contribution)).one()
    assert rows and {r.kind for r in rows} == {"length", "uri"}
    assert not any(member in (r.key + r.value) or contribution.id in (r.key + r.value) for r in rows)
