"""The action server: rasa-sdk's app, reachable only by the Rasa servers.

rasa-sdk 3.6 has no authentication of its own, so this wraps its Sanic app:

- it binds to ``ACTION_SERVER_HOST`` (default ``127.0.0.1``), not to every interface;
- every request except ``GET /health`` must carry the header ``X-Action-Token`` with the value
  of ``ACTION_SERVER_TOKEN`` (Rasa sends it: see ``endpoints.yml``), otherwise 401; the server
  does not start without a token;
- errors never echo the request body (it holds the conversation) into the reply or the log.

    python -m actions.server --port 5055
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Action-Token"
TOKEN_ENV = "ACTION_SERVER_TOKEN"


def build_app(token: str | None = None) -> Sanic:
    app = create_app("actions", cors_origins="")
    expected = (token if token is not None else os.environ.get(TOKEN_ENV, "")).encode()
    if not expected:
        raise ValueError(f"{TOKEN_ENV} must not be empty")

    @app.middleware("request")
    async def require_token(request: Request):  # type: ignore[no-untyped-def]
        if request.path == "/health":
            return None
        given = request.headers.get(TOKEN_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "unauthorised"}, status=401)
        return None

    @app.exception(Exception)
    async def no_echo(request: Request, exception: Exception):  # type: ignore[no-untyped-def]
        status = getattr(exception, "status_code", 500)
        if status >= 500:
            logger.error("Action server error on %s: %s", request.path, type(exception).__name__)
        return response.json({"error": type(exception).__name__}, status=status)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument("--host", default=os.environ.get("ACTION_SERVER_HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not os.environ.get(TOKEN_ENV):
        raise SystemExit(
            f"{TOKEN_ENV} is not set. Set it to a long random value, the same for Rasa "
            "(endpoints.yml sends it); `make run` does this for you."
        )
    logger.info("Action server listening on http://%s:%s", args.host, args.port)
    build_app().run(host=args.host, port=args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
