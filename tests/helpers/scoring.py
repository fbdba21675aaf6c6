"""Shared steps of the scoring tests: a real export's pool rows, and a score's points by part."""

from __future__ import annotations

import pyarrow as pa

from tests.conftest import samples_path
from tutti.coop.contributions.reading import read_upload
from tutti.coop.contributions.scoring import Score
from tutti.coop.pool.contract import POOL_SCHEMA, play_identity

NOTHING = POOL_SCHEMA.empty_table()


def plays(*parts: str) -> pa.Table:
    """The pool rows of the sample export at ``parts`` (under the samples folder)."""
    return play_identity(read_upload([samples_path(*parts)]).table)


def points(result: Score) -> dict[str, int]:
    return {item.name: item.points for item in result.items}
