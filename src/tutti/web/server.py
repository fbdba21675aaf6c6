"""``tutti coop serve``: migrate the database, check a cooperative was founded in it, then run uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import uvicorn
from sqlalchemy.orm import Session

from tutti.coop.bootstrap import existing_name
from tutti.coop.db import display_url, make_engine, upgrade
from tutti.coop.errors import ConfigError
from tutti.coop.settings import load_coop_settings
from tutti.web.app import create_app


def serve(
    home: Path | None,
    database_url: str | None,
    *,
    host: str,
    port: int,
    announce: Callable[[str], None] = print,
) -> None:
    """Run the cooperative's server until interrupted."""
    settings = load_coop_settings(home, database_url)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            name = existing_name(session)
        if name is None:
            raise ConfigError(
                f"{display_url(settings.database_url)} holds no cooperative yet; found one with `tutti coop init`"
            )
        announce(
            f"serving the cooperative {name!r} at http://{host}:{port} (database {display_url(settings.database_url)}, "
            f"{settings.workers} background worker(s))"
        )
        # No access log: it would record every client's address, which the cooperative never keeps.
        uvicorn.run(
            create_app(settings, engine=engine),
            host=host,
            port=port,
            access_log=False,
            server_header=False,
            proxy_headers=True,
            log_level="info",
        )
    finally:
        engine.dispose()
