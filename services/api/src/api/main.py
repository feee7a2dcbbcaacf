"""`lecturegen-api`: run the API under uvicorn with settings from the environment."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from api.logs import configure
from api.settings import ApiSettings


def main() -> None:
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
