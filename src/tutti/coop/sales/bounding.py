"""Each member's contribution bounded before anything is counted: the step differential privacy stands on.

Noise calibrated to a sensitivity protects only if no member can move the counts by more than that sensitivity.
These Ibis expressions (run on any engine, ``tutti.coop.engine``) make it true by construction, whatever a member
holds (a million plays, or plays in ten thousand cells):

- ``bounded_cells``: per member and cell, plays counted up to ``max_per_cell`` and listening time summed with each
  play clamped to ``max_ms_per_play`` (the sum capped at ``max_per_cell`` plays' worth), and only the member's
  ``max_cells`` cells with most plays kept (ties broken on the cell's values, so every engine keeps the same).
  One member then moves at most ``max_cells`` cells, each by at most ``max_per_cell`` plays.
- ``cell_totals``: the bounded cells summed over members, with the number of distinct members behind each.
- ``bounded_plays``: at most ``max_plays`` plays per member (the lowest play ids, a sample no member can steer), for
  histograms over a fixed set of cells, where one member then moves the whole histogram by at most ``max_plays``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis

from tutti.coop.engine.queries import contribution_bound
from tutti.coop.errors import InvalidInput
from tutti.coop.sales.privacy import Sensitivity

Table = Any  # ibis.expr.types.Table: Ibis ships no type information
MAX_MS_PER_PLAY = 15 * 60 * 1000  # longer single plays count as 15 minutes (podcasts, a player left running)


@dataclass(frozen=True)
class CellBounds:
    """How much of one member a table of cells may hold."""

    max_cells: int
    max_per_cell: int
    max_ms_per_play: int = MAX_MS_PER_PLAY

    def __post_init__(self) -> None:
        if self.max_ms_per_play < 1:
            raise InvalidInput("the longest play counted is at least 1 ms")
        Sensitivity(self.max_cells, self.max_per_cell)  # the same checks

    @property
    def plays(self) -> Sensitivity:
        return Sensitivity(self.max_cells, self.max_per_cell)

    @property
    def ms_l1(self) -> int:
        """The most one member can move the listening time of all cells together."""
        return self.max_cells * self.max_per_cell * self.max_ms_per_play


def bounded_cells(pool: Table, cell: list[str], bounds: CellBounds) -> Table:
    """Per member and cell: ``plays`` (at most ``max_per_cell``) and ``ms_played`` (bounded alike), for at most
    ``max_cells`` cells per member."""
    clamped = pool.ms_played.fill_null(0).clip(lower=0, upper=bounds.max_ms_per_play)
    with_ms = pool.mutate(clamped_ms=clamped)
    per = with_ms.group_by(["member", *cell]).aggregate(raw_plays=with_ms.count(), raw_ms=with_ms.clamped_ms.sum())
    capped = per.mutate(
        plays=ibis.least(per.raw_plays, bounds.max_per_cell).cast("int64"),
        ms_played=ibis.least(per.raw_ms, bounds.max_per_cell * bounds.max_ms_per_play).cast("int64"),
    )
    order = [ibis.desc(capped.plays), *(capped[c].asc(nulls_first=True) for c in cell)]
    ranked = capped.mutate(cell_rank=ibis.row_number().over(group_by=capped.member, order_by=order))
    kept = ranked.filter(ranked.cell_rank < bounds.max_cells)
    return kept.select("member", *cell, "plays", "ms_played")


def cell_totals(bounded: Table, cell: list[str]) -> Table:
    """Bounded cells summed over members: each cell's plays, listening time and distinct members."""
    grouped = bounded.group_by(cell)
    return grouped.aggregate(
        plays=bounded.plays.sum().cast("int64"),
        ms_played=bounded.ms_played.sum().cast("int64"),
        members=bounded.member.nunique().cast("int64"),
    )


def bounded_plays(pool: Table, max_plays: int) -> Table:
    """The pool with at most ``max_plays`` plays per member (the same ones on every run and engine)."""
    if max_plays < 1:
        raise InvalidInput("the plays counted per member are at least 1")
    return contribution_bound(pool, max_plays)
