"""``tutti coop serve``: open the cooperative (``bootstrap.open_cooperative``), then run uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from tutti.coop.bootstrap import open_cooperative
from tutti.coop.db import display_url
from tutti.web.app import create_app


def server_config(app: ASGIApp, host: str, port: int, *, log_level: str = "info") -> uvicorn.Config:
    """How the cooperative's app is served (the tests' live server uses the same)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # No access log: it would record every client's address, which the cooperative never keeps.
        access_log=False,
        server_header=False,
        # Forwarding headers are read by tutti.web.proxies, from the proxies the settings trust only.
        proxy_headers=False,
        log_level=log_level,
        lifespan="on",
    )


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
        uvicorn.Server(server_config(create_app(running.settings, engine=running.engine), host, port)).run()
    finally:
        running.engine.dispose()
