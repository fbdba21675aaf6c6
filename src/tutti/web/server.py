"""``tutti coop serve``: open the cooperative (``bootstrap.open_cooperative``), then run uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import uvicorn

from tutti.coop.bootstrap import open_cooperative
from tutti.coop.db import display_url
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
    running = open_cooperative(home, database_url)
    try:
        announce(
            f"serving the cooperative {running.name!r} at http://{host}:{port} "
            f"(database {display_url(running.settings.database_url)}, {running.settings.workers} background worker(s))"
        )
        # No access log: it would record every client's address, which the cooperative never keeps.
        uvicorn.run(
            create_app(running.settings, engine=running.engine),
            host=host,
            port=port,
            access_log=False,
            server_header=False,
            proxy_headers=True,
            log_level="info",
        )
    finally:
        running.engine.dispose()
