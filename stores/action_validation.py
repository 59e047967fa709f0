"""Rasa's check of action-server replies, with its JSON schema checked once instead of per call.

``RemoteAction._validate_action_result`` (Rasa 3.6) calls ``jsonschema.validate``, which checks
the constant reply schema against the JSON-schema metaschema on every custom action call before
validating the reply: about 30 ms of CPU per call on this project's 2-core machine, and this bot
makes two or three calls per message. Profiling under load put 42 % of the Rasa server's busy
time there (docs/benchmarks.md).

``validate_action_result`` replaces the method (installed by ``stores.patches``): it builds the
validator once and runs the same validation, raising the same error as ``jsonschema.validate``
(its best match) with Rasa's own message.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    """Rasa's validator for action-server replies, built (and its schema checked) once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = best_match(action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True
