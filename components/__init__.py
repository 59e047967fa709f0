"""Rasa NLU components of the sciatica bot (thin adapters around ``bot``)."""
