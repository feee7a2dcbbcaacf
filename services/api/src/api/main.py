"""`lecturegen-api`: run the API under uvicorn with settings from the environment."""

from __future__ import annotations

from collections.abc import Sequence

import uvicorn

from api.app import create_app
from api.logs import configure
from api.settings import ApiSettings
from shared.service import About

ABOUT = About(
    "lecturegen-api",
    "The lecturegen HTTP API: validates commands and appends their events to the event log, "
    "serves the views, live updates over SSE, media files and the editor's page, until SIGTERM "
    "or SIGINT.",
    (ApiSettings,),
    name="api",
)


def main(argv: Sequence[str] | None = None) -> None:
    # uvicorn owns the event loop, the signals and `/metrics`: only `--help` comes from `About`.
    ABOUT.parser().parse_args(argv)
    settings = ApiSettings()
    configure()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,  # our own access line names the route, never the query string
        log_config=None,
        timeout_graceful_shutdown=settings.graceful_shutdown_s,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
