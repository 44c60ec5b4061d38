"""Exceptions that carry a message meant for the user.

The CLI prints the message of any :class:`AmberEvalError` as ``error: <message>`` and exits
with code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class AmberEvalError(Exception):
    """An error caused by the user's input or environment, with a message that says what to fix."""


class DataError(AmberEvalError):
    """The AMBER data files are missing, corrupt or unreadable."""


class InputError(AmberEvalError):
    """A user-supplied file (responses, captions, prompts, ...) is malformed."""


class ResourceError(AmberEvalError):
    """A required resource (NLTK data, a spaCy pipeline, a model) is not available."""


class UnknownNameError(AmberEvalError):
    """A name looked up in a registry does not exist."""
