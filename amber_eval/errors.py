"""Exceptions that carry a message meant for the user.

The CLI prints the message of any :class:`AmberEvalError` as ``error: <message>`` and exits
with code 2, as it does for an operating-system error that names its file
(:func:`user_error`). Anything else is a bug: a one-line summary, exit code 1, and the
traceback with ``-vv``.
"""

from __future__ import annotations

import errno
import os


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


class OutputError(AmberEvalError):
    """An output cannot be written (read-only folder, full disk, permissions)."""


_HOW_TO_FIX = {
    errno.EACCES: "permission denied: choose a folder you can write, or fix its permissions",
    errno.EPERM: "operation not permitted: choose a folder you can write",
    errno.EROFS: "read-only file system: choose a writable folder",
    errno.ENOSPC: "no space left on the device: free some space or choose another disk",
    errno.EDQUOT: "disk quota exceeded: free some space or choose another disk",
    errno.ENOENT: "no such file or folder: check the path",
    errno.EISDIR: "it is a folder: give a file path",
    errno.ENOTDIR: "a part of the path is not a folder: check the path",
    errno.ENAMETOOLONG: "the name is too long: choose a shorter path",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n)",
}


def describe_os_error(exc: OSError) -> str:
    """What an operating-system error means for the user, and what to do."""
    how = _HOW_TO_FIX.get(exc.errno or -1)
    if how is not None:
        return how
    return exc.strerror or os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__


def user_error(exc: BaseException) -> AmberEvalError | None:
    """The user error ``exc`` stands for, or None when it is a bug.

    An :class:`AmberEvalError` is itself; an ``OSError`` that names its file (reading or
    writing it failed: missing, a folder, permissions, a full or read-only disk) becomes one
    naming that file.
    """
    if isinstance(exc, AmberEvalError):
        return exc
    if isinstance(exc, OSError) and exc.filename is not None:
        where = os.fsdecode(exc.filename)
        if exc.filename2 is not None:
            where += f" -> {os.fsdecode(exc.filename2)}"
        return AmberEvalError(f"{where}: {describe_os_error(exc)}")
    return None
