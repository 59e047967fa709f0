"""Rasa store adapters of the sciatica bot."""
