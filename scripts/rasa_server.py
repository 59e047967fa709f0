"""``rasa`` with the JWT secret taken from the environment, never from a command line.

Rasa 3.6 reads the secret of its HTTP API only from ``--jwt-secret`` (it has no environment
variable for it), and every user of the machine can read a process's command line (``ps``,
``/proc/<pid>/cmdline``). This launcher takes ``RASA_JWT_SECRET`` from its environment and
appends ``--jwt-secret`` to the arguments inside the process, before Rasa's own command-line
parser reads them; the command line the system shows is the one it was started with.

    RASA_JWT_SECRET=... python -m scripts.rasa_server run --enable-api --jwt-method HS256 ...

Everything else is passed to Rasa unchanged. ``--jwt-secret`` given on the command line is
refused, and so is ``run --enable-api`` without ``RASA_JWT_SECRET`` (the API would be open).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

SECRET_VARIABLE = "RASA_JWT_SECRET"
SECRET_FLAG = "--jwt-secret"


class LaunchError(SystemExit):
    """The command line cannot be run safely; the message says why."""


def rasa_arguments(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """Rasa's arguments with the secret from ``env`` added where the HTTP API is enabled."""
    if any(arg == SECRET_FLAG or arg.startswith(SECRET_FLAG + "=") for arg in argv):
        raise LaunchError(
            f"Pass the JWT secret in {SECRET_VARIABLE}, not as {SECRET_FLAG}: a command line "
            "is visible to every user of the machine."
        )
    arguments = list(argv)
    if arguments[:1] == ["run"] and "--enable-api" in arguments:
        secret = env.get(SECRET_VARIABLE, "")
        if not secret:
            raise LaunchError(
                f"{SECRET_VARIABLE} is not set: the HTTP API would have no authentication."
            )
        arguments += [SECRET_FLAG, secret]
    return arguments


def main() -> None:
    arguments = rasa_arguments(sys.argv[1:], os.environ)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *arguments]
    rasa_main()


if __name__ == "__main__":
    main()
