"""Mint a token for Rasa's HTTP API from RASA_JWT_SECRET (HS256).

Rasa checks ``Authorization: Bearer <token>`` on every API endpoint. An ``admin`` token may do
everything; a ``user`` token only reaches the conversation whose id equals its username.

    python -m scripts.api_token --role admin
    python -m scripts.api_token --role user --username <conversation id> --hours 1
"""

from __future__ import annotations

import argparse
import os
import time

import jwt


def mint(secret: str, role: str, username: str, hours: float | None) -> str:
    payload: dict = {"user": {"username": username, "role": role}}
    if hours:
        payload["exp"] = int(time.time() + hours * 3600)
    return jwt.encode(payload, secret, algorithm="HS256")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=["admin", "user"], default="admin")
    parser.add_argument("--username", default="operator")
    parser.add_argument("--hours", type=float, default=12, help="lifetime (0: no expiry)")
    args = parser.parse_args(argv)
    secret = os.environ.get("RASA_JWT_SECRET")
    if not secret:
        raise SystemExit("RASA_JWT_SECRET is not set (make run keeps one in var/secrets.env)")
    print(mint(secret, args.role, args.username, args.hours))


if __name__ == "__main__":
    main()
