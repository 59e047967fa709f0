"""scripts/rasa_server.py: Rasa gets its JWT secret from the environment, never from a command
line (unit tests; the running bot is checked in test_local_run.py and tests/cluster/)."""

from __future__ import annotations

import pytest

from scripts.rasa_server import LaunchError, rasa_arguments

SECRET = "0123456789abcdef" * 4


def test_the_secret_is_added_inside_the_process_for_the_http_api() -> None:
    argv = ["run", "--enable-api", "--port", "5005", "--jwt-method", "HS256"]
    arguments = rasa_arguments(argv, {"RASA_JWT_SECRET": SECRET})
    assert arguments == [*argv, "--jwt-secret", SECRET]
    assert SECRET not in " ".join(argv)


@pytest.mark.parametrize("flag", [["--jwt-secret", SECRET], [f"--jwt-secret={SECRET}"]])
def test_a_secret_on_the_command_line_is_refused(flag: list[str]) -> None:
    with pytest.raises(LaunchError, match="RASA_JWT_SECRET"):
        rasa_arguments(["run", "--enable-api", *flag], {"RASA_JWT_SECRET": SECRET})


def test_the_api_is_never_started_without_a_secret() -> None:
    with pytest.raises(LaunchError, match="no authentication"):
        rasa_arguments(["run", "--enable-api"], {})


def test_other_commands_pass_through_unchanged() -> None:
    assert rasa_arguments(["shell", "--interface", "127.0.0.1"], {}) == [
        "shell",
        "--interface",
        "127.0.0.1",
    ]
