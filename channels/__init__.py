"""The channels people reach the bot through (see credentials.yml)."""
