"""A pool table opens only the members it is given: on either engine a member left out is neither listed nor
decryptable, and a wrong key raises the cooperative's decryption error.

The attacks: a careless operator (or a cheater with write access to the folder) copies a member's pool file into
another member's folder and catalogues it there; a job is handed a stale or another member's key; a Spark
application that already read every member (its caches warm) then runs a job for fewer members.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.coop.conftest import CoopDb, give, join
from tests.coop.engine.conftest import sorted_rows
from tutti.coop import crypto
from tutti.coop.engine import PoolSource, PoolTable, open_duckdb, pool_source, top_artists
from tutti.coop.engine.on_spark import key_list, open_spark
from tutti.coop.errors import DecryptionFailed
from tutti.coop.models import Member, PoolFile
from tutti.coop.pool import catalog
from tutti.coop.pool.files import pool_of
from tutti.demo import write_extended_export

Opener = Callable[[PoolSource], PoolTable]


@pytest.fixture(params=["duckdb", "spark"])
def opener(request: pytest.FixtureRequest) -> Opener:
    if request.param == "duckdb":
        return open_duckdb
    session = request.getfixturevalue("spark")
    return lambda source: open_spark(source, session)


def members_read(table: PoolTable) -> set[str]:
    return set(table.to_pyarrow(top_artists(table.table, 1)).column("member").to_pylist())


def test_a_wrong_key_raises_the_decryption_error(synthetic_pool: PoolSource, opener: Opener) -> None:
    files = {p: synthetic_pool.files[p] for p in ("m2", "m3")}
    # A random key, and another member's key, which is as wrong.
    for wrong in (os.urandom(32), synthetic_pool.keys["m2"]):
        keys = {"m2": synthetic_pool.keys["m2"], "m3": wrong}
        with opener(PoolSource(synthetic_pool.root, files, keys)) as table, pytest.raises(DecryptionFailed):
            table.to_pyarrow(top_artists(table.table))


def test_a_source_refuses_files_of_a_member_whose_key_was_not_given(synthetic_pool: PoolSource) -> None:
    keys = {p: k for p, k in synthetic_pool.keys.items() if p != "m2"}
    with pytest.raises(ValueError, match="keys were not given"):
        PoolSource(synthetic_pool.root, synthetic_pool.files, keys)


def test_a_member_left_out_is_not_read_even_from_a_file_smuggled_into_anothers_folder(
    coop_db: CoopDb, opener: Opener, tmp_path: Path
) -> None:
    pool = pool_of(coop_db.settings)
    ids = {name: join(coop_db, f"{name}@example.org") for name in ("ann", "bo", "cy")}
    for n, member_id in enumerate(ids.values()):
        report = give(coop_db, member_id, write_extended_export(tmp_path / f"export-{n}", 300 + 100 * n, seed=n + 1))
        assert report.accepted, report
    with coop_db.sessions() as session:
        members = {name: session.get_one(Member, member_id) for name, member_id in ids.items()}
        keys = {name: (m.pseudonym, crypto.member_key(session, m, coop_db.settings)) for name, m in members.items()}
        pooled = {keys[name][0]: catalog.member_counts(session, m).plays for name, m in members.items()}
    pseudonym = {name: p for name, (p, _) in keys.items()}
    allowed = {keys[name][0]: keys[name][1] for name in ("ann", "bo")}

    with coop_db.sessions() as session:
        everyone = pool_source(session, pool, dict(keys.values()))
        consenting = pool_source(session, pool, allowed)
    with opener(everyone) as table:  # warms every cache a Spark application keeps
        assert members_read(table) == set(pseudonym.values())
    with opener(consenting) as table:
        assert members_read(table) == {pseudonym["ann"], pseudonym["bo"]}
        counted = table.to_pyarrow(table.table.group_by("member").aggregate(n=table.table.count()))
        assert sorted_rows(counted) == [{"member": p, "n": pooled[p]} for p in sorted(allowed)]

    # Cy's file copied into Ann's folder and catalogued as Ann's: listed for Ann, but it opens only with Cy's key.
    with coop_db.sessions.begin() as session:
        cy_file = session.query(PoolFile).filter(PoolFile.member_id == ids["cy"]).one()
        ann_file = session.query(PoolFile).filter(PoolFile.member_id == ids["ann"]).one()
        smuggled = (
            Path(cy_file.path).with_name("part-smuggled.parquet").as_posix().replace(pseudonym["cy"], pseudonym["ann"])
        )
        shutil.copyfile(pool.root / cy_file.path, pool.root / smuggled)
        session.add(
            PoolFile(
                path=smuggled,
                member_id=ids["ann"],
                contribution_id=ann_file.contribution_id,
                member_key_id=ann_file.member_key_id,
                rows=cy_file.rows,
                bytes=cy_file.bytes,
                schema_version=cy_file.schema_version,
                identity_version=cy_file.identity_version,
                created_utc=cy_file.created_utc,
            )
        )
    with coop_db.sessions() as session:
        consenting = pool_source(session, pool, allowed)
    assert pool.root / smuggled in consenting.files[pseudonym["ann"]]
    with opener(consenting) as table, pytest.raises(DecryptionFailed):
        table.to_pyarrow(top_artists(table.table))


def test_the_spark_key_list_holds_only_the_jobs_members_and_stays_out_of_plans(
    synthetic_pool: PoolSource, spark: Any
) -> None:
    keys = {p: synthetic_pool.keys[p] for p in ("m1", "m4")}
    listed = key_list(keys)
    assert [entry.split(":")[0] for entry in listed.split(",")] == ["m1", "m4"]
    source = PoolSource(synthetic_pool.root, {p: synthetic_pool.files[p] for p in keys}, keys)
    with open_spark(source, spark) as table:
        plan = spark.table(table.table.get_name())._jdf.queryExecution().toString()
        assert "m1" in plan and listed.split(",")[0].split(":")[1] not in plan
