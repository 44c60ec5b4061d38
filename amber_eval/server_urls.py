"""Judge server URLs: the one check of ``--base-url`` and the redaction that shows a URL in
an error or a file without what may be a key (user name, password, query, fragment)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from amber_eval.errors import InputError


def check_base_url(value: str) -> None:
    """Refuse a URL that is not http(s), or that holds a user name, password, query or
    fragment (where a key would be kept in run.json); the error shows the URL redacted."""
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
        _ = parts.port
    except ValueError:
        raise InputError(f"--base-url {redact_url(value)!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(
            f"--base-url {redact_url(value)!r} is not an http(s) URL such as http://HOST:PORT/v1"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InputError(
            "--base-url must not hold credentials, a query or a fragment "
            f"({redact_url(value)!r}); put the key in OPENAI_API_KEY (or the variable named "
            "by --api-key-env)"
        )


def redact_url(value: str) -> str:
    """``value`` with any user name, password, query and fragment replaced by ``***``, so a
    URL can be shown in an error without what may be a key."""
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "***"
    netloc = ("***@" if "@" in parts.netloc else "") + host + port
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            parts.path,
            "***" if parts.query else "",
            "***" if parts.fragment else "",
        )
    )
