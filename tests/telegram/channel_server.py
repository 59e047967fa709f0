"""Serves the channels of a credentials file the way ``rasa run`` registers them, with no model.

    python -m tests.telegram.channel_server CREDENTIALS PORT

Rasa's own functions read the file (expanding ``${VAR}``), build the channels and the Sanic
app; only the model is not loaded, so a channel's start-up and its answers before a message
reaches the bot can be checked in seconds.
"""

from __future__ import annotations

import logging
import sys

from rasa.core.run import configure_app, create_http_input_channels


def main(credentials: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s - %(message)s")
    channels = create_http_input_channels(None, credentials)
    app = configure_app(channels, enable_api=False, port=port)
    app.run(host="127.0.0.1", port=port, access_log=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
