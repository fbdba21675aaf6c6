"""Pool queries written once in Ibis, run unchanged on every engine (``tutti.coop.engine``).

Each takes the pool table (``PoolTable.table``, or any table of its shape, such as ``contribution_bound``'s
result) and returns an Ibis expression. Results are fixed by the data alone: every ranking breaks its ties on a
key (never on file or row order), so DuckDB and Spark return the same rows, and so does a rerun.

- ``top_artists``: each member's most played artists, grouped by ``artist_key`` (``tutti.names``) and shown
  under the spelling that member used most.
- ``monthly_artist_totals``: plays, listening time and listeners per country, month and artist.
- ``contribution_bound``: each member's rows capped to ``cap`` (the lowest play ids: a deterministic sample that
  no member can steer, as the id is a hash), so that no member weighs more than ``cap`` rows in what follows.

A play's moment is ``start_utc``, or ``end_utc`` where the start is unknown, as everywhere else.
"""

from __future__ import annotations

from typing import Any

import ibis

Table = Any  # ibis.expr.types.Table: Ibis ships no type information


def top_artists(pool: Table, n: int = 10) -> Table:
    """Per member, the ``n`` artists with most plays: member, rank (1 = most), artist_key, artist, plays."""
    named = pool.filter(pool.artist_key.notnull())
    spellings = named.group_by(["member", "artist_key", "artist"]).aggregate(uses=named.count())
    by_artist = ibis.window(group_by=[spellings.member, spellings.artist_key])
    spellings = spellings.mutate(
        plays=spellings.uses.sum().over(by_artist),
        spelling=ibis.row_number().over(
            group_by=[spellings.member, spellings.artist_key],
            order_by=[ibis.desc(spellings.uses), spellings.artist.asc(nulls_first=False)],
        ),
    )
    artists = spellings.filter(spellings.spelling == 0)
    ranked = artists.mutate(
        rank=ibis.row_number().over(group_by=artists.member, order_by=[ibis.desc(artists.plays), artists.artist_key])
        + 1
    )
    top = ranked.filter(ranked.rank <= n)
    return top.select("member", "rank", "artist_key", "artist", top.plays.cast("int64").name("plays"))


def monthly_artist_totals(pool: Table) -> Table:
    """Per country, month (its first day) and artist_key: plays, ms_played summed, and distinct members."""
    named = pool.filter(pool.artist_key.notnull())
    moment = named.start_utc.coalesce(named.end_utc)
    dated = named.mutate(month=moment.truncate("M").date()).filter(moment.notnull())
    return dated.group_by(["country", "month", "artist_key"]).aggregate(
        plays=dated.count(),
        ms_played=dated.ms_played.sum(),
        listeners=dated.member.nunique(),
    )


def contribution_bound(pool: Table, cap: int) -> Table:
    """The pool with each member's rows capped to ``cap``: those with the lowest play ids, the same on every run."""
    order = ibis.row_number().over(group_by=pool.member, order_by=[pool.play_id])
    return pool.filter(order < cap)
