"""The preview members read before they vote: what a sale's recipe would release, computed on the pool as it is
when the vote opens, with the recipe's privacy applied (the k floor, noise and group selection, pseudonyms of a
key drawn for the preview and thrown away).

The ``preview-sale`` job, queued when a sale's vote opens (``governance.proposals.open_vote``), computes it over
the members the sale would include if it closed then (``consent.eligible``) and keeps a summary, never the rows:
how many members and rows each table has, its columns, and its ten most common entries (for a table of members'
rows, the artists in most members' rows, with how many; for an aggregate, its largest published cells). Everyone
who may see the proposal sees the counts; only members and stewards see the entries, since the buyer has not paid
for anything yet. What the buyer would receive is built later, from the members included at close, with noise of
its own.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from tutti.coop.governance import consent
from tutti.coop.governance.proposals import OPEN, PREVIEW_JOB
from tutti.coop.jobs import JobKind, JobRun
from tutti.coop.models import Proposal, Role, SalePreview, utcnow
from tutti.coop.sales.recipes import ReleaseTables, recipe_named
from tutti.coop.sales.releases import members_source, run_recipe
from tutti.coop.sales.sale import parameters_of, sale_of

SHOWN = 10


def summary_of(built: ReleaseTables) -> dict[str, Any]:
    """Counts, columns and the most common entries of each table (never its rows)."""
    tables = {}
    for name, table in sorted(built.tables.items()):
        tables[name] = {"rows": table.num_rows, "columns": table.column_names, "top": _top(table)}
    return {"members": built.members, "tables": tables, "notes": list(built.notes)}


def _top(table: pa.Table) -> list[dict[str, Any]]:
    if "member" in table.column_names:  # members' rows: only how many members each artist reaches
        label = "artist" if "artist" in table.column_names else table.column_names[1]
        reach: Counter[str] = Counter()
        pairs = set(zip(table.column(label).to_pylist(), table.column("member").to_pylist(), strict=True))
        for value, _member in pairs:
            reach[str(value)] += 1
        ranked = sorted(reach.items(), key=lambda item: (-item[1], item[0]))[:SHOWN]
        return [{label: value, "members": count} for value, count in ranked]
    if "plays" in table.column_names:
        rows = sorted(table.to_pylist(), key=lambda r: (-(r["plays"] or 0), str(r)))[:SHOWN]
    else:
        rows = table.slice(0, SHOWN).to_pylist()
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()} for row in rows]


def compute(run: JobRun) -> None:
    """The ``preview-sale`` handler (see the module docstring)."""
    settings = run.settings
    proposal_id = str(run.payload["proposal_id"])
    with run.sessions.begin() as session:
        proposal, terms = sale_of(session, proposal_id)
        if proposal.status != OPEN:
            return  # closed before its preview could be computed: the release speaks for itself
        recipe = recipe_named(terms.recipe.name)
        params = parameters_of(terms)
        source, _ids = members_source(session, settings, consent.eligible(session, proposal, terms))
    built = run_recipe(settings, source, recipe, params, os.urandom(32), f"preview-{proposal_id}")
    with run.settle() as session:
        now = utcnow()
        found = session.get(SalePreview, proposal_id)
        if found is None:
            session.add(SalePreview(proposal_id=proposal_id, summary=summary_of(built), computed_utc=now))
        else:
            found.summary, found.computed_utc = summary_of(built), now
        run.result = {"members": built.members}


def preview_in_words(session: Session, proposal: Proposal, viewer_role: Role) -> str:
    """The preview as members read it (the buyer: the counts only)."""
    found = session.get(SalePreview, proposal.id)
    if found is None:
        if proposal.status == OPEN:
            return "Preview: being computed on the pool as it is now"
        return "Preview: computed when the vote opens, on the pool as it is then, with the recipe's privacy applied"
    summary = found.summary
    parts = [
        f"Preview on the pool of {found.computed_utc:%d %b %Y}, with the recipe's privacy applied: "
        f"{summary['members']:,} members' data"
    ]
    for name, table in summary["tables"].items():
        parts.append(f"{name.replace('_', ' ')}: {table['rows']:,} rows of {', '.join(table['columns'])}")
        if viewer_role is not Role.BUYER and table["top"]:
            parts.append("most common: " + "; ".join(_entry(row) for row in table["top"]))
    return ". ".join(parts)


def _entry(row: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in row.items())


PREVIEW_SALE = JobKind(
    PREVIEW_JOB,
    "Compute what a sale would release on the pool as it is when its vote opens, with the recipe's privacy applied, "
    "and keep a summary (counts, columns, most common entries; never the rows) for the proposal's page.",
    handler=compute,
    lease=timedelta(minutes=30),
)
