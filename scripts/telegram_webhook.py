"""Register, remove or show the bot's Telegram webhook (run once, not by every bot process).

    python -m scripts.telegram_webhook set-webhook      # TELEGRAM_WEBHOOK_URL + secret token
    python -m scripts.telegram_webhook info             # what Telegram has, and its last error
    python -m scripts.telegram_webhook delete-webhook

Reads TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, TELEGRAM_WEBHOOK_URL (the public https URL
of ``/webhooks/telegram/webhook``; ``--url`` overrides it) and TELEGRAM_API_URL (optional, the
Bot API's base URL). Telegram then sends every update with the secret in the
``X-Telegram-Bot-Api-Secret-Token`` header, which the bot checks; only the update kinds the bot
handles are asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any
from urllib.parse import urlsplit

from aiogram.utils.exceptions import TelegramAPIError

from channels.telegram import (
    ALLOWED_UPDATES,
    DEFAULT_API_URL,
    SECRET_PATTERN,
    TOKEN_PATTERN,
    TelegramOutput,
)

WEBHOOK_PATH = "/webhooks/telegram/webhook"
# The only ports Telegram delivers webhooks to.
TELEGRAM_PORTS = {443, 80, 88, 8443}


class SetupError(Exception):
    """A setting is missing or wrong; the text says which and how to fix it."""


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def bot_token() -> str:
    token = _env("TELEGRAM_BOT_TOKEN")
    if not token:
        raise SetupError("TELEGRAM_BOT_TOKEN is not set (the token @BotFather gave you).")
    if not TOKEN_PATTERN.fullmatch(token):
        raise SetupError("TELEGRAM_BOT_TOKEN does not look like a token from @BotFather.")
    return token


def webhook_secret() -> str:
    secret = _env("TELEGRAM_WEBHOOK_SECRET")
    if not secret:
        raise SetupError(
            "TELEGRAM_WEBHOOK_SECRET is not set. Choose one, e.g.\n"
            "  python -c 'import secrets; print(secrets.token_urlsafe(32))'\n"
            "and give the same value to the bot."
        )
    if not SECRET_PATTERN.fullmatch(secret):
        raise SetupError(
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters from A-Z, a-z, 0-9, _ and -."
        )
    return secret


def webhook_url(given: str | None) -> str:
    """The public URL Telegram will post to; a bare https://host gets the webhook's path."""
    url = (given or _env("TELEGRAM_WEBHOOK_URL")).strip()
    if not url:
        raise SetupError(
            "TELEGRAM_WEBHOOK_URL is not set (e.g. https://bot.example.org" + WEBHOOK_PATH + ")."
        )
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise SetupError("Telegram only delivers to https:// URLs; got " + url)
    try:
        port = parts.port
    except ValueError as error:
        raise SetupError(f"The URL's port is not a number: {url}") from error
    if port is not None and port not in TELEGRAM_PORTS:
        raise SetupError(f"Telegram only delivers to ports 443, 80, 88 and 8443; got {port}.")
    if parts.path in ("", "/"):
        url = url.rstrip("/") + WEBHOOK_PATH
    return url


async def _run(args: argparse.Namespace) -> int:
    token = bot_token()
    if args.command == "set-webhook":
        url, secret = webhook_url(args.url), webhook_secret()
    output = TelegramOutput(token, _env("TELEGRAM_API_URL") or DEFAULT_API_URL)
    try:
        if args.command == "set-webhook":
            await output.register_webhook(
                url,
                secret,
                drop_pending_updates=args.drop_pending_updates,
                max_connections=args.max_connections,
            )
            print(f"Telegram now sends updates ({', '.join(ALLOWED_UPDATES)}) to {url}")
            print("with the secret token from TELEGRAM_WEBHOOK_SECRET.")
        elif args.command == "delete-webhook":
            await output.remove_webhook(drop_pending_updates=args.drop_pending_updates)
            print("Telegram no longer sends updates to a webhook.")
        else:
            print(describe(await output.webhook_info() or {}))
    finally:
        await output.close_session()
    return 0


def describe(info: dict[str, Any]) -> str:
    lines = [f"url: {info.get('url') or '(none)'}"]
    for key in ("pending_update_count", "max_connections", "allowed_updates", "ip_address"):
        if key in info:
            lines.append(f"{key}: {info[key]}")
    if info.get("last_error_message"):
        lines.append(f"last error: {info['last_error_message']} (at {info.get('last_error_date')})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    set_hook = commands.add_parser("set-webhook", help="register the webhook with Telegram")
    set_hook.add_argument("--url", help="public URL of the webhook (default TELEGRAM_WEBHOOK_URL)")
    set_hook.add_argument("--max-connections", type=int, choices=range(1, 101), metavar="1-100")
    delete_hook = commands.add_parser("delete-webhook", help="stop Telegram sending updates")
    commands.add_parser("info", help="show what Telegram has registered")
    for sub in (set_hook, delete_hook):
        sub.add_argument(
            "--drop-pending-updates",
            action="store_true",
            help="discard updates Telegram is still holding",
        )
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except SetupError as error:
        print(error, file=sys.stderr)
        return 2
    except TelegramAPIError as error:
        print(f"Telegram refused: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
