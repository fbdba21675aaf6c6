"""Pools for the engine's tests, written by the pool's own writer, and one Spark session for the whole run.

``synthetic_pool``: five members made here (the demo's invented listeners, the padding fixture, a member who
spells one artist three ways), one of them with two contributions. ``sample_pool``: four members whose plays are
real exports from ../shared/samples (tests using it are marked ``samples``). ``spark``: one local Spark session
(2 threads, 2 shuffle partitions) for every Spark test, skipped with the reason where PySpark or a JDK is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import samples_path
from tests.helpers.fabrications import PADDING
from tutti.coop.contributions.reading import read_upload
from tutti.coop.engine import PoolSource
from tutti.coop.pool.contract import play_identity
from tutti.coop.pool.files import Pool
from tutti.demo import write_extended_export

SAMPLE_MEMBERS = {
    "s1": ("spotify-extended", "candidlyred"),
    "s2": ("spotify-extended", "mica-92"),
    "s3": ("lastfm", "aleex-cs"),
    "s4": ("apple-music", "vietvudanh"),
}


def pool_rows(paths: list[Path]) -> pa.Table:
    """An upload's plays as pool rows, as the cooperative pools them."""
    return play_identity(read_upload(paths).table)


def respelled(paths: list[Path]) -> pa.Table:
    """The padding fixture's 150 plays of one artist, 60 of them spelled in capitals and 30 in lower case."""
    table = read_upload(paths).table
    artist = table.column("artist").to_pylist()
    spelled = [a.upper() if i < 60 else a.lower() if i < 90 else a for i, a in enumerate(artist)]
    index = table.schema.get_field_index("artist")
    return play_identity(table.set_column(index, "artist", pa.array(spelled, pa.string())))


def write_pool(root: Path, members: dict[str, list[pa.Table]]) -> PoolSource:
    """Each member's tables written as their contributions (``c-<n>``) under a fresh key; the source of them all."""
    pool = Pool(root)
    keys = {pseudonym: os.urandom(32) for pseudonym in members}
    for pseudonym, tables in members.items():
        for n, table in enumerate(tables):
            pool.write(pseudonym, f"c-{n}", table, keys[pseudonym])
    return PoolSource(root, {p: tuple(pool.files(p)) for p in members}, keys)


@pytest.fixture(scope="session")
def synthetic_pool(tmp_path_factory: pytest.TempPathFactory) -> PoolSource:
    folder = tmp_path_factory.mktemp("exports")
    first = pool_rows(write_extended_export(folder / "a", 1_500, seed=7))
    second = pool_rows(write_extended_export(folder / "b", 1_200, seed=7))  # the same listener's twin
    third = pool_rows(write_extended_export(folder / "c", 900, seed=11))
    return write_pool(
        tmp_path_factory.mktemp("pool"),
        {
            "m1": [first.slice(0, 1_000), first.slice(1_000)],
            "m2": [second],
            "m3": [third],
            "m4": [pool_rows([PADDING])],
            "m5": [respelled([PADDING])],
        },
    )


@pytest.fixture(scope="session")
def sample_pool(tmp_path_factory: pytest.TempPathFactory) -> PoolSource:
    members = {p: [pool_rows([samples_path(*parts)])] for p, parts in SAMPLE_MEMBERS.items()}
    return write_pool(tmp_path_factory.mktemp("sample-pool"), members)


def decrypted(source: PoolSource) -> pa.Table:
    """Every row of the source's members, read with pyarrow alone (the tests' independent view of the pool)."""
    pool = Pool(source.root)
    tables = []
    for pseudonym in sorted(source.files):
        table = pool.member_table(pseudonym, source.keys[pseudonym])
        tables.append(table.append_column("member", pa.array([pseudonym] * table.num_rows, pa.string())))
    return pa.concat_tables(tables)


def sorted_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows in an order fixed by their values alone (every column ascending, nulls last)."""
    return sorted(table.to_pylist(), key=lambda row: [(value is None, value) for value in row.values()])


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (pip install -e '.[test,spark]')"
    if shutil.which("java") is None or shutil.which("javac") is None:
        return "no JDK here (Spark needs java; the pool's key client is built with javac)"
    if subprocess.run(["java", "-version"], capture_output=True).returncode != 0:
        return "java does not run here"
    return None


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Spark session for the whole test run, made the way the engine makes it."""
    missing = _spark_missing()
    if missing:
        pytest.skip(missing)
    from tutti.coop.engine.on_spark import spark_session

    session = spark_session("local[2]", local_dir=tmp_path_factory.mktemp("spark-local"))
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()
