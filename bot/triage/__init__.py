"""Red-flag triage: the rules engine, the conversation level, and the screening questions."""
