"""``tutti coop proposals``, ``tutti coop buyers`` and ``tutti coop members``: the operator's and stewards' side of
governance from the command line. Closing a vote here runs the same function as the close job; recounting needs
no trust in the server: from a server's published ballots, it recomputes the tally and the hash the log signed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tutti.cli._common import ID_WIDTH, HomeOption, PlainHelpCommand, console
from tutti.cli.coop import DatabaseUrlOption, _cooperative
from tutti.errors import UsageError

if TYPE_CHECKING:
    from tutti.coop.governance.closing import Recount

proposals_app = typer.Typer(help="Proposals and votes: list, show, close when due, recount.", no_args_is_help=True)
buyers_app = typer.Typer(help="Buyer applications: list those waiting, approve or refuse.", no_args_is_help=True)
members_app = typer.Typer(help="Members' roles: make a member a steward, a buyer or a member.", no_args_is_help=True)


def register(coop_app: typer.Typer) -> None:
    coop_app.add_typer(proposals_app, name="proposals")
    coop_app.add_typer(buyers_app, name="buyers")
    coop_app.add_typer(members_app, name="members")


StewardOption = Annotated[str, typer.Option("--steward", help="The id of the steward acting.")]


@proposals_app.command("list", cls=PlainHelpCommand)
def proposals_list_command(database_url: DatabaseUrlOption = None, home: HomeOption = None) -> None:
    """Every proposal, newest first: kind, status, outcome and when its vote closes."""
    from sqlalchemy import select

    from tutti.coop.models import Proposal

    with _cooperative(home, database_url) as (session, _settings):
        rows = list(session.scalars(select(Proposal).order_by(Proposal.created_utc.desc())))
    table = Table("kind", "status", "outcome", "closes (UTC)", "title")
    table.add_column("proposal", no_wrap=True, min_width=ID_WIDTH)
    for p in rows:
        closes = f"{p.closes_utc:%Y-%m-%d %H:%M}" if p.closes_utc else ""
        table.add_row(p.kind, p.status, p.outcome or "", closes, p.title, p.id)
    console.print(table if rows else "no proposals")


@proposals_app.command("close", cls=PlainHelpCommand)
def proposals_close_command(
    proposal_id: Annotated[
        str | None, typer.Argument(help="The proposal; default: every vote whose window ended.")
    ] = None,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Close votes whose window has ended (as the close-vote job does): publish, count, execute what passed."""
    from sqlalchemy import Engine

    from tutti.coop.governance import ballots, closing

    with _cooperative(home, database_url) as (session, _settings):
        due = [proposal_id] if proposal_id else closing.due(session)
        for pid in due:
            closed = closing.close(session, pid)
            session.commit()
            console.print(f"{closed.id}: {closed.status} ({closed.outcome or 'not closed'})", highlight=False)
        session.close()
        bind = session.get_bind()
        if due and isinstance(bind, Engine):
            ballots.scrub(bind)
    if not due:
        console.print("no vote is due to close")


@proposals_app.command("recount", cls=PlainHelpCommand)
def proposals_recount_command(
    proposal_id: Annotated[str, typer.Argument(help="The proposal whose published ballots to count again.")],
    server: Annotated[str | None, typer.Option("--server", help="Recount what this server publishes.")] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="TUTTI_COOP_TOKEN", help="API token with the `read` scope.")
    ] = None,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Count a closed vote's published ballots again and check the tally and the hash the log signed."""
    from tutti.coop.errors import LogInvalid
    from tutti.coop.governance import closing

    if server is not None:
        result = _recount_remote(server, token, proposal_id)
    else:
        with _cooperative(home, database_url) as (session, _settings):
            result = closing.recount(session, proposal_id)
    t = result.tally
    console.print(
        f"{t.ballots:,} ballots: yes {t.yes:,}, no {t.no:,}, abstain {t.abstain:,}: {result.outcome}\n"
        f"ballots sha256 {result.digest}",
        highlight=False,
    )
    if result.announced != result.tally:
        raise LogInvalid("the recount differs from the announced tally")
    if server is None and result.digest != result.logged_digest:
        raise LogInvalid("the published ballots are not the list the log's proposal-closed event signed")
    console.print("the recount agrees with the announced tally" + ("" if server else " and the log"))


def _recount_remote(server: str, token: str | None, proposal_id: str) -> Recount:
    import httpx

    from tutti.coop.governance.closing import Recount, recount_ballots
    from tutti.coop.governance.rules import Ballot, Rules, Tally

    if not token:
        raise UsageError("--token (or TUTTI_COOP_TOKEN) is needed to read a server's ballots")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=30) as client:
        proposal = client.get(f"/api/proposals/{proposal_id}").raise_for_status().json()
        answer = client.get(f"/api/proposals/{proposal_id}/ballots").raise_for_status().json()
    if not answer["published"]:
        raise UsageError("the ballots are secret until the vote closes")
    published = [Ballot(b["tracking_code"], b["choice"], b["weight"]) for b in answer["ballots"]]
    tally, decided = recount_ballots(published, proposal["electorate_size"] or 0, Rules.from_json(proposal["rules"]))
    from tutti.coop.governance.ballots import digest

    return Recount(proposal_id, tally, decided, Tally(**answer["tally"]), digest(published), answer["ballots_sha256"])


@buyers_app.command("list", cls=PlainHelpCommand)
def buyers_list_command(database_url: DatabaseUrlOption = None, home: HomeOption = None) -> None:
    """Buyer applications waiting for a steward, oldest first."""
    from tutti.coop.governance import buyers

    with _cooperative(home, database_url) as (session, _settings):
        waiting = buyers.pending(session)
    table = Table("organisation", "kind", "purpose")
    table.add_column("application", no_wrap=True, min_width=ID_WIDTH)
    for a in waiting:
        table.add_row(a.organisation, a.kind, a.purpose, a.id)
    console.print(table if waiting else "no application is waiting")


@buyers_app.command("decide", cls=PlainHelpCommand)
def buyers_decide_command(
    application_id: Annotated[str, typer.Argument(help="The application (from `tutti coop buyers list`).")],
    steward: StewardOption,
    approve: Annotated[bool, typer.Option("--approve/--refuse", help="Approve or refuse it.")],
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Approve (the account becomes a buyer) or refuse a buyer application; audited."""
    from tutti.coop.governance import buyers
    from tutti.coop.members import accounts

    with _cooperative(home, database_url) as (session, _settings):
        row = buyers.decide(session, accounts.get_member(session, steward), application_id, approve)
        session.commit()
        console.print(f"application {row.id}: {row.status}", highlight=False)


@members_app.command("role", cls=PlainHelpCommand)
def members_role_command(
    member_id: Annotated[str, typer.Argument(help="The member whose role to set.")],
    role: Annotated[str, typer.Argument(help="member, steward or buyer.")],
    steward: StewardOption,
    database_url: DatabaseUrlOption = None,
    home: HomeOption = None,
) -> None:
    """Set a member's role (audited); the last steward cannot step down."""
    from tutti.coop.errors import InvalidInput
    from tutti.coop.members import accounts
    from tutti.coop.models import Role

    if role not in {r.value for r in Role}:
        raise InvalidInput("the role must be member, steward or buyer")
    with _cooperative(home, database_url) as (session, _settings):
        target = accounts.get_member(session, member_id)
        accounts.set_role(session, accounts.get_member(session, steward), target, Role(role))
        session.commit()
        console.print(f"{target.id} is now a {role}", highlight=False)
