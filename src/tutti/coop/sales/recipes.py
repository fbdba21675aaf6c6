"""Data recipes: exactly what a sale releases, how it is protected, and the words members read before they vote.

A recipe is declared once, versioned, and engine-neutral. It has two halves:

- ``engine_tables(pool, params)``: Ibis expressions over the pool table of the members included in the sale
  (``tutti.coop.engine``), with every member's contribution already bounded (``tutti.coop.sales.bounding``). Both
  engines return exactly the same tables for them (the parity tests hold every recipe to it).
- ``finish(tables, params, release_key)``: pure Python on those small tables: the k floor, OpenDP noise and
  group selection, release pseudonyms, coarsening. Its output is what the buyer gets.

The recipes (``RECIPES``, by name):

- ``artist-preferences`` (rows): each included member's top N artists by listening time over a period, with the
  share of their time, under a pseudonym of this release only; artists in fewer than k members' lists are left out.
- ``aggregate-statistics`` (aggregate, DP): plays and listening hours per country, month and artist (or track),
  with noise and noisy group selection; cells behind fewer than k members are never published.
- ``listening-distributions`` (aggregate, DP): plays and skips by hour of the week (UTC) and plays by length.
- ``pseudonymous-rows`` (rows): chosen fields of each play, times coarsened, under release pseudonyms; tracks and
  artists fewer than k members played are suppressed. Released only if the vote approved rows.

Parameters are frozen dataclasses read from and written to plain dicts (``parameters_from``), so a proposal stores
them as JSON and the same recipe version rebuilds the same release.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from tutti.coop.errors import InvalidInput
from tutti.coop.sales.bounding import CellBounds, bounded_cells, bounded_plays, cell_totals
from tutti.coop.sales.privacy import Spend, check_privacy, dp_counts, dp_sums, k_floor, pseudonymised

Table = Any  # ibis.expr.types.Table: Ibis ships no type information
Materialize = Callable[[Table], Table]  # ``PoolTable.materialize``: computed once, read by several results
Kind = Literal["aggregate", "rows"]
DEFAULT_K = 10
ROW_FIELDS = ("artist", "track", "album", "ms_played", "skipped", "shuffle", "content_kind", "country", "platform")
TIME_UNITS = ("hour", "day", "week")
SCROBBLE_MS = 210_000  # a play without a duration counts as 3 min 30 s
LENGTH_BUCKETS_S = (30, 60, 120, 180, 240, 360)  # upper bounds of play-length buckets, seconds; the last is open


@dataclass(frozen=True)
class ReleaseTables:
    """What one recipe built: the tables the buyer gets, the privacy it spent, and, kept by the cooperative and
    never delivered, how much of each included member went in (pool pseudonym -> plays or list entries used)."""

    tables: dict[str, pa.Table]
    spend: Spend
    used: dict[str, int]
    notes: list[str] = field(default_factory=list)

    @property
    def members(self) -> int:
        """Members whose data is in the release."""
        return sum(1 for n in self.used.values() if n > 0)


@dataclass(frozen=True)
class Period:
    """Plays from ``since`` (inclusive) to ``until`` (exclusive), UTC dates; either side may be open."""

    since: dt.date | None = None
    until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput("a period's start comes before its end")

    def words(self) -> str:
        if self.since and self.until:
            return f"from {self.since.isoformat()} to {self.until.isoformat()}"
        if self.since:
            return f"since {self.since.isoformat()}"
        if self.until:
            return f"before {self.until.isoformat()}"
        return "over each member's whole history"


def _in_period(pool: Table, period: Period) -> Table:
    moment = pool.start_utc.coalesce(pool.end_utc)
    kept = pool.filter(moment.notnull())
    if period.since is not None:
        since = dt.datetime.combine(period.since, dt.time(), dt.UTC)
        kept = kept.filter(moment >= ibis.literal(since, type="timestamp('UTC')"))
    if period.until is not None:
        until = dt.datetime.combine(period.until, dt.time(), dt.UTC)
        kept = kept.filter(moment < ibis.literal(until, type="timestamp('UTC')"))
    return kept


def inline(expr: Table) -> Table:
    """No engine to keep a result in: the expression is used as it is (and computed where it is read)."""
    return expr


def _spellings(pool: Table, key: str, name: str) -> Table:
    """Each key's most common spelling among the included members (ties: the first in code-point order)."""
    named = pool.filter(pool[key].notnull() & pool[name].notnull())
    return _most_used(named.group_by([key, name]).aggregate(uses=named.count()), key, name)


def _most_used(counted: Table, key: str, name: str) -> Table:
    """Of ``counted`` (key, name, uses), each key's name with most uses."""
    ranked = counted.mutate(
        spelling=ibis.row_number().over(group_by=counted[key], order_by=[ibis.desc(counted.uses), counted[name]])
    )
    chosen = ranked.filter(ranked.spelling == 0)
    return chosen.select(key, name)


def _named(table: pa.Table, spellings: pa.Table, key: str, name: str) -> pa.Table:
    """``table`` with its ``key`` column shown as ``name`` (the most common spelling)."""
    joined = table.join(spellings, key, join_type="left outer")
    return joined.drop_columns([key])


class Recipe(Protocol):
    name: ClassVar[str]
    version: ClassVar[int]
    kind: ClassVar[Kind]
    data_kind: ClassVar[str]  # the sale's ``data_kind`` it delivers (``governance.terms.DATA_KINDS``)
    title: ClassVar[str]
    parameters: ClassVar[type[Any]]

    def describe(self, params: Any) -> str: ...

    def engine_tables(self, pool: Table, params: Any, materialize: Materialize = ...) -> dict[str, Table]: ...

    def finish(self, tables: Mapping[str, pa.Table], params: Any, release_key: bytes) -> ReleaseTables: ...


# --- artist preferences -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArtistPreferencesParameters:
    top: int = 20
    period: Period = Period()
    k: int = DEFAULT_K

    def __post_init__(self) -> None:
        if not 1 <= self.top <= 100:
            raise InvalidInput("top artists per member: 1 to 100")
        _check_k(self.k)


class ArtistPreferences:
    name: ClassVar[str] = "artist-preferences"
    version: ClassVar[int] = 1
    kind: ClassVar[Kind] = "rows"
    data_kind: ClassVar[str] = "per-member"
    title: ClassVar[str] = "Artist preferences"
    parameters: ClassVar[type[Any]] = ArtistPreferencesParameters

    def describe(self, params: ArtistPreferencesParameters) -> str:
        return (
            f"For each included member, their {params.top} most listened artists {params.period.words()}, with the "
            "share of their listening time each takes (in whole percent; a scrobble, which has no duration, counts as "
            "its track's length or 3 min 30 s). Each member appears under a random-looking "
            "code made for this sale only, so this list cannot be joined with any other sale. Artists that fewer "
            f"than {params.k} members have in their list are left out, so a rare artist cannot point at its few "
            "listeners. No play, time of day, country or device is included."
        )

    def engine_tables(
        self, pool: Table, params: ArtistPreferencesParameters, materialize: Materialize = inline
    ) -> dict[str, Table]:
        music = _in_period(pool, params.period)
        music = music.filter((music.content_kind == "music") & music.artist_key.notnull())
        # A scrobble has no duration: it counts as the track's length, else as SCROBBLE_MS (as in the recaps).
        timed = music.ms_played.coalesce(music.duration_ms, ibis.literal(SCROBBLE_MS, type="int64"))
        clamped = timed.clip(lower=0, upper=CellBounds(1, 1).max_ms_per_play)
        with_ms = music.mutate(clamped_ms=clamped)
        # One scan of the pool: each member's time and plays per artist and spelling, kept by the engine.
        spelled = materialize(
            with_ms.group_by(["member", "artist_key", "artist"]).aggregate(
                ms=with_ms.clamped_ms.sum(), uses=with_ms.count()
            )
        )
        per = spelled.group_by(["member", "artist_key"]).aggregate(ms=spelled.ms.sum())
        totals = per.group_by("member").aggregate(member_ms=per.ms.sum())
        shared = per.join(totals, "member")
        shared = shared.filter(shared.member_ms > 0)
        ranked = shared.mutate(
            rank=ibis.row_number().over(group_by=shared.member, order_by=[ibis.desc(shared.ms), shared.artist_key]) + 1
        )
        top = ranked.filter(ranked.rank <= params.top)
        preferences = top.select(
            "member", top["rank"].cast("int64").name("rank"), "artist_key", top.ms.cast("int64"), "member_ms"
        )
        named = spelled.filter(spelled.artist.notnull())
        counted = named.group_by(["artist_key", "artist"]).aggregate(uses=named.uses.sum())
        return {"preferences": preferences, "spellings": _most_used(counted, "artist_key", "artist")}

    def finish(
        self, tables: Mapping[str, pa.Table], params: ArtistPreferencesParameters, release_key: bytes
    ) -> ReleaseTables:
        rows = tables["preferences"]
        listeners = rows.group_by("artist_key").aggregate([("member", "count_distinct")])
        listeners = pa.table(
            {"artist_key": listeners.column("artist_key"), "members": listeners.column("member_count_distinct")}
        )
        common = k_floor(listeners, params.k).column("artist_key")
        kept = rows.filter(pc.is_in(rows.column("artist_key"), common))
        share = pc.round(pc.divide(pc.cast(kept.column("ms"), pa.float64()), kept.column("member_ms")), 2)
        out = pa.table(
            {
                "member": kept.column("member"),
                "rank": kept.column("rank"),
                "artist_key": kept.column("artist_key"),
                "share_of_time": share,
            }
        )
        out = _named(out, tables["spellings"], "artist_key", "artist").select(
            ["member", "rank", "artist", "share_of_time"]
        )
        used = _counts(out.column("member"))
        out = pseudonymised(out, release_key).sort_by([("member", "ascending"), ("rank", "ascending")])
        left_out = rows.num_rows - kept.num_rows
        return ReleaseTables(
            {"artist_preferences": out},
            Spend(0.0, 0.0, "artist preferences (rows; no noise)"),
            used,
            [f"{left_out} list entries left out: artists in fewer than {params.k} members' lists"],
        )


# --- aggregate statistics -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AggregateParameters:
    by: Literal["artist", "track"] = "artist"
    period: Period = Period()
    epsilon: float = 1.0
    delta: float = 1e-6
    k: int = DEFAULT_K
    max_cells: int = 50
    max_per_cell: int = 20

    def __post_init__(self) -> None:
        if self.by not in ("artist", "track"):
            raise InvalidInput("aggregate statistics are by artist or by track")
        check_privacy(self.epsilon, self.delta)
        if self.delta <= 0:
            raise InvalidInput("choosing which groups to publish needs a delta above 0")
        _check_k(self.k)
        CellBounds(self.max_cells, self.max_per_cell)


class AggregateStatistics:
    name: ClassVar[str] = "aggregate-statistics"
    version: ClassVar[int] = 1
    kind: ClassVar[Kind] = "aggregate"
    data_kind: ClassVar[str] = "aggregates"
    title: ClassVar[str] = "Aggregate statistics"
    parameters: ClassVar[type[Any]] = AggregateParameters

    def describe(self, params: AggregateParameters) -> str:
        return (
            f"Plays and listening hours per country, month and {params.by} {params.period.words()}, added up over "
            f"all included members. Each member counts for at most {params.max_per_cell} plays in any one cell and "
            f"in at most {params.max_cells} cells, random noise is added to every figure, and a {params.by} is shown "
            f"only if enough listening stands behind it and at least {params.k} members played it in that month and "
            f"country. Privacy: epsilon {params.epsilon:g}, delta {params.delta:g} (the smaller, the stronger); "
            "nobody can tell from the result whether any one member was included."
        )

    def _cell(self, params: AggregateParameters) -> tuple[list[str], str, str]:
        key = f"{params.by}_key"
        return ["country", "month", key], key, params.by

    def engine_tables(
        self, pool: Table, params: AggregateParameters, materialize: Materialize = inline
    ) -> dict[str, Table]:
        cell, key, name = self._cell(params)
        plays = _in_period(pool, params.period)
        plays = plays.filter(plays[key].notnull())
        moment = plays.start_utc.coalesce(plays.end_utc)
        plays = plays.mutate(month=moment.truncate("M").date())
        bounds = CellBounds(params.max_cells, params.max_per_cell)
        bounded = materialize(bounded_cells(plays, cell, bounds))
        return {
            "cells": cell_totals(bounded, cell),
            "spellings": _spellings(plays, key, name),
            "used": bounded.group_by("member").aggregate(plays=bounded.plays.sum().cast("int64")),
        }

    def finish(self, tables: Mapping[str, pa.Table], params: AggregateParameters, release_key: bytes) -> ReleaseTables:
        cell, key, name = self._cell(params)
        cells = k_floor(_sorted(tables["cells"], cell), params.k)
        bounds = CellBounds(params.max_cells, params.max_per_cell)
        selected = dp_counts(
            cells.column("plays").to_pylist(), bounds.plays, epsilon=params.epsilon / 2, delta=params.delta
        )
        chosen = sorted(selected.counts)
        kept = cells.take(pa.array(chosen, pa.int64()))
        ms = dp_sums(kept.column("ms_played").to_pylist(), bounds.ms_l1, epsilon=params.epsilon / 2)
        hours = [max(0.0, round(v / 3_600_000, 1)) for v in ms]
        out = pa.table(
            {
                "country": kept.column("country"),
                "month": kept.column("month"),
                key: kept.column(key),
                "plays": pa.array([selected.counts[i] for i in chosen], pa.int64()),
                "listening_hours": pa.array(hours, pa.float64()),
            }
        )
        out = _named(out, tables["spellings"], key, name).select(["country", "month", name, "plays", "listening_hours"])
        return ReleaseTables(
            {"aggregate_statistics": out},
            Spend(selected.epsilon + params.epsilon / 2, selected.delta, f"aggregate statistics by {params.by}"),
            _used(tables["used"]),
            [
                f"{len(chosen)} of {tables['cells'].num_rows} cells published "
                f"(noise scale {selected.scale:g} plays, threshold {selected.threshold} plays)"
            ],
        )


# --- listening-time distributions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistributionParameters:
    period: Period = Period()
    epsilon: float = 1.0
    max_plays: int = 1000

    def __post_init__(self) -> None:
        if self.max_plays < 1:
            raise InvalidInput("plays counted per member: at least 1")
        check_privacy(self.epsilon, 0.0)


class ListeningDistributions:
    name: ClassVar[str] = "listening-distributions"
    version: ClassVar[int] = 1
    kind: ClassVar[Kind] = "aggregate"
    data_kind: ClassVar[str] = "aggregates"
    title: ClassVar[str] = "Listening-time distributions"
    parameters: ClassVar[type[Any]] = DistributionParameters

    def describe(self, params: DistributionParameters) -> str:
        return (
            f"How listening spreads over the week {params.period.words()}: plays and skips for each hour of the week "
            "(in UTC), and plays by how long they lasted, added up over all included members. Each member counts "
            f"for at most {params.max_plays} plays, chosen by a fixed rule they cannot steer, and random noise is "
            f"added to every figure. Privacy: epsilon {params.epsilon:g} (the smaller, the stronger)."
        )

    def engine_tables(
        self, pool: Table, params: DistributionParameters, materialize: Materialize = inline
    ) -> dict[str, Table]:
        plays = bounded_plays(_in_period(pool, params.period), params.max_plays)
        moment = plays.start_utc.coalesce(plays.end_utc)
        timed = plays.mutate(
            weekday=moment.day_of_week.index().cast("int64"),
            hour=moment.hour().cast("int64"),
            skip=plays.skipped.fill_null(False).cast("int64"),
        )
        week = timed.group_by(["weekday", "hour"]).aggregate(
            plays=timed.count().cast("int64"), skipped=timed.skip.sum().cast("int64")
        )
        timed_ms = plays.filter(plays.ms_played.notnull())
        seconds = timed_ms.mutate(bucket=_length_bucket(timed_ms.ms_played))
        lengths = seconds.group_by("bucket").aggregate(plays=seconds.count().cast("int64"))
        used = plays.group_by("member").aggregate(plays=plays.count().cast("int64"))
        return {"week": week, "lengths": lengths, "used": used}

    def finish(
        self, tables: Mapping[str, pa.Table], params: DistributionParameters, release_key: bytes
    ) -> ReleaseTables:
        third = params.epsilon / 3
        week = {(r["weekday"], r["hour"]): r for r in tables["week"].to_pylist()}
        cells = [(d, h) for d in range(7) for h in range(24)]  # every cell, played or not: the keys are public
        plays = dp_sums([week.get(c, {"plays": 0})["plays"] for c in cells], params.max_plays, epsilon=third)
        skips = dp_sums([week.get(c, {"skipped": 0})["skipped"] for c in cells], params.max_plays, epsilon=third)
        lengths = {r["bucket"]: r["plays"] for r in tables["lengths"].to_pylist()}
        labels = _length_labels()
        by_length = dp_sums([lengths.get(i, 0) for i in range(len(labels))], params.max_plays, epsilon=third)
        week_out = pa.table(
            {
                "weekday": pa.array([_WEEKDAYS[d] for d, _h in cells]),
                "hour_utc": pa.array([h for _d, h in cells], pa.int64()),
                "plays": pa.array([max(0, round(v)) for v in plays], pa.int64()),
                "skips": pa.array([max(0, round(v)) for v in skips], pa.int64()),
            }
        )
        length_out = pa.table(
            {"play_length": pa.array(labels), "plays": pa.array([max(0, round(v)) for v in by_length], pa.int64())}
        )
        return ReleaseTables(
            {"plays_by_hour_of_week": week_out, "plays_by_length": length_out},
            Spend(params.epsilon, 0.0, "listening-time distributions"),
            _used(tables["used"]),
        )


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _length_bucket(ms: Any) -> Any:
    case = ibis.cases(
        *((ms < bound * 1000, i) for i, bound in enumerate(LENGTH_BUCKETS_S)), else_=len(LENGTH_BUCKETS_S)
    )
    return case.cast("int64")


def _length_labels() -> list[str]:
    labels, low = [], 0
    for bound in LENGTH_BUCKETS_S:
        labels.append(f"{low}-{bound} s")
        low = bound
    return [*labels, f"{low} s or more"]


# --- pseudonymous rows --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowParameters:
    fields: tuple[str, ...] = ("artist", "track", "ms_played", "skipped")
    time_unit: Literal["hour", "day", "week"] = "day"
    period: Period = Period()
    k: int = DEFAULT_K

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields) - set(ROW_FIELDS))
        if unknown or not self.fields:
            raise InvalidInput(f"row fields are chosen from {', '.join(ROW_FIELDS)}")
        if self.time_unit not in TIME_UNITS:
            raise InvalidInput(f"times are coarsened to one of {', '.join(TIME_UNITS)}")
        _check_k(self.k)


class PseudonymousRows:
    name: ClassVar[str] = "pseudonymous-rows"
    version: ClassVar[int] = 1
    kind: ClassVar[Kind] = "rows"
    data_kind: ClassVar[str] = "rows"
    title: ClassVar[str] = "Pseudonymous play rows"
    parameters: ClassVar[type[Any]] = RowParameters

    def describe(self, params: RowParameters) -> str:
        return (
            f"One row per play {params.period.words()} with these fields only: {', '.join(params.fields)}; the time "
            f"of each play rounded down to its {params.time_unit}. Each member appears under a code made for this "
            "sale only, so rows cannot be joined with any other sale. Plays of tracks or artists that fewer than "
            f"{params.k} included members played are left out. This is the most detailed kind of release."
        )

    def engine_tables(self, pool: Table, params: RowParameters, materialize: Materialize = inline) -> dict[str, Table]:
        plays = _in_period(pool, params.period)
        moment = plays.start_utc.coalesce(plays.end_utc)
        unit = {"hour": "h", "day": "D", "week": "W"}[params.time_unit]
        plays = plays.mutate(time=moment.truncate(unit))
        common_tracks = _common(plays, "track_key", params.k)
        common_artists = _common(plays, "artist_key", params.k)
        kept = plays.semi_join(common_tracks, "track_key").semi_join(common_artists, "artist_key")
        return {"rows": kept.select("member", "play_id", "time", *params.fields)}

    def finish(self, tables: Mapping[str, pa.Table], params: RowParameters, release_key: bytes) -> ReleaseTables:
        rows = _sorted(tables["rows"], ["member", "time", "play_id"]).drop_columns(["play_id"])
        used = _counts(rows.column("member"))
        out = pseudonymised(rows, release_key)
        out = out.sort_by([("member", "ascending"), ("time", "ascending")])
        return ReleaseTables({"plays": out}, Spend(0.0, 0.0, "pseudonymous rows (no noise)"), used)


def _common(plays: Table, key: str, k: int) -> Table:
    named = plays.filter(plays[key].notnull())
    counted = named.group_by(key).aggregate(members=named.member.nunique())
    return counted.filter(counted.members >= k).select(key)


# --- the registry -------------------------------------------------------------------------------------------------

RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (ArtistPreferences(), AggregateStatistics(), ListeningDistributions(), PseudonymousRows())
}


def recipe_named(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise InvalidInput(f"no recipe named {name!r}; recipes: {', '.join(RECIPES)}") from None


def check_sale_recipe(name: str, version: int, values: Mapping[str, Any], data_kind: str, delivery: str) -> Any:
    """The parameters of the recipe a sale names, checked against the recipe as this cooperative defines it: the
    same version, parameters it accepts, the data kind the sale announces, and query access only to aggregates."""
    recipe = recipe_named(name)
    if version != recipe.version:
        raise InvalidInput(f"recipe {name} is at version {recipe.version}, not {version}")
    if data_kind != recipe.data_kind:
        raise InvalidInput(f"recipe {name} releases {recipe.data_kind} data, not {data_kind}")
    if delivery == "query" and recipe.kind != "aggregate":
        raise InvalidInput(f"recipe {name} releases rows: query access is only for aggregate recipes")
    return parameters_from(recipe, values)


def parameters_from(recipe: Recipe, values: Mapping[str, Any]) -> Any:
    """A recipe's parameters from their plain form (flat names to numbers and short texts, as a proposal stores
    them: ``since``/``until`` ISO dates for the period, ``fields`` comma-separated), checked; unknown names are
    refused."""
    kind = recipe.parameters
    names = {f.name for f in dataclasses.fields(kind)} - {"period"}
    if any(f.name == "period" for f in dataclasses.fields(kind)):
        names |= {"since", "until"}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InvalidInput(f"{recipe.name} has no parameter {', '.join(unknown)}")
    converted = {k: v for k, v in values.items() if k not in ("since", "until")}
    if "since" in values or "until" in values:
        converted["period"] = Period(_date(values.get("since"), "since"), _date(values.get("until"), "until"))
    if "fields" in converted:
        if not isinstance(converted["fields"], str):
            raise InvalidInput("fields are named in one text, separated by commas")
        converted["fields"] = tuple(f.strip() for f in converted["fields"].split(",") if f.strip())
    for number in ("epsilon", "delta"):
        if number in converted:
            value = converted[number]
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InvalidInput(f"{number} is a number")
            converted[number] = float(value)
    for whole in ("top", "k", "max_cells", "max_per_cell", "max_plays"):
        if whole in converted and (isinstance(converted[whole], bool) or not isinstance(converted[whole], int)):
            raise InvalidInput(f"{whole} is a whole number")
    try:
        return kind(**converted)
    except TypeError as error:
        raise InvalidInput(f"{recipe.name}: {error}") from None


def parameters_to_dict(params: Any) -> dict[str, Any]:
    """The plain form of a recipe's parameters (what a proposal stores; ``parameters_from`` reads it back)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if isinstance(value, Period):
            if value.since:
                out["since"] = value.since.isoformat()
            if value.until:
                out["until"] = value.until.isoformat()
            continue
        out[f.name] = ",".join(value) if isinstance(value, tuple) else value
    return out


def _date(value: Any, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} is an ISO date (YYYY-MM-DD)") from None


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise InvalidInput("the k floor is at least 2 members")


def _sorted(table: pa.Table, columns: list[str]) -> pa.Table:
    """Rows in an order fixed by their values (engines return groups in any order)."""
    return table.sort_by([(c, "ascending") for c in columns])


def _counts(members: pa.ChunkedArray) -> dict[str, int]:
    """Pool pseudonym -> rows of theirs in a table."""
    counted = pc.value_counts(members)
    return {v["values"]: v["counts"] for v in counted.to_pylist()}


def _used(table: pa.Table) -> dict[str, int]:
    return dict(zip(table.column("member").to_pylist(), table.column("plays").to_pylist(), strict=True))
