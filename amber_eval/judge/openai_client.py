"""An asynchronous client of an OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, Ollama,
hosted APIs), built on httpx.

Requests run concurrently, at most ``concurrency`` at a time. A request that meets a 429, a
5xx, a timeout or a dropped connection is retried with exponential backoff and jitter (the
server's ``Retry-After`` is honoured when it sends one), up to ``max_retries`` times. Errors
that retrying cannot fix (401/403, an unknown model, a prompt over the context length, any
other 4xx) stop at once with a message that says what to fix. Every retry and error is
counted in :class:`ClientStats`.

The API key is read from the environment variable ``api_key_env`` (``OPENAI_API_KEY`` by
default); it is sent in the ``Authorization`` header and never written anywhere.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from amber_eval.errors import AmberEvalError, InputError
from amber_eval.server_urls import check_base_url, redact_url

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
MAX_REPLY_BYTES = 4 << 20
"""The largest reply read: a Yes/No answer with 20 alternatives per token is a few kB."""
BASE_URL_ENV = "OPENAI_BASE_URL"
_CONTEXT = re.compile(
    r"maximum context length|context[ _-]length|context window|too many tokens|"
    r"prompt is too long|input is too long|exceeds the model",
    re.IGNORECASE,
)


class ServerError(AmberEvalError):
    """The server refused a request, or could not be reached after every retry."""


class ContextLengthError(ServerError):
    """A prompt is longer than the served model's context."""


class ReplyTooLarge(ServerError):
    """A reply over :attr:`ClientSettings.max_reply_bytes` (not retried)."""


@dataclass(frozen=True)
class ClientSettings:
    """Where the server is and how hard to try. Nothing here is secret: the key stays in the
    environment."""

    base_url: str
    api_key_env: str = DEFAULT_KEY_ENV
    timeout: float = 60.0
    max_retries: int = 5
    concurrency: int = 8
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 300.0
    max_reply_bytes: int = MAX_REPLY_BYTES


@dataclass
class ClientStats:
    """Requests sent, retries by reason (``429``, ``5xx`` codes, ``timeout``, ``connection``),
    seconds spent waiting before retries, and errors that stopped a request."""

    requests: int = 0
    responses: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    retry_wait_seconds: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "http_requests": self.requests,
            "http_responses_ok": self.responses,
            "retries": sum(self.retries.values()),
            "retries_by_reason": dict(sorted(self.retries.items())),
            "retry_wait_seconds": round(self.retry_wait_seconds, 3),
            "errors": sum(self.errors.values()),
            "errors_by_reason": dict(sorted(self.errors.items())),
        }


def normalize_base_url(url: str | None) -> str:
    """The API root (``http://host:port/v1``), from the argument or ``$OPENAI_BASE_URL``.

    A URL with credentials in it is refused: keys belong in the environment variable.
    """
    value = url or os.environ.get(BASE_URL_ENV)
    if not value:
        raise InputError(
            "the openai backend needs the server's URL: pass --base-url "
            "http://HOST:PORT/v1 (or set OPENAI_BASE_URL)"
        )
    check_base_url(value)
    parts = urlsplit(value.strip())
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def server_root(base_url: str) -> str:
    """The server's root URL (the API root without a trailing ``/v1``)."""
    return base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date (None when absent or unreadable)."""
    if value is None:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: uniform in [d/2, d], d = min(cap, base * 2**attempt)."""
    ceiling = min(cap, base * (2**attempt))
    return ceiling / 2 + rng.random() * ceiling / 2


def _message(body: Any, fallback: str) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            text = error.get("message") or error.get("detail") or error.get("type")
            if text:
                return str(text)
        elif isinstance(error, str):
            return error
        detail = body.get("detail") or body.get("message")
        if detail:
            return str(detail)
    return fallback[:300]


class OpenAIClient:
    """Requests to one server. ``post_many`` runs a list of requests concurrently."""

    def __init__(self, settings: ClientSettings, *, rng: random.Random | None = None) -> None:
        if settings.concurrency < 1:
            raise InputError("--concurrency must be at least 1")
        if settings.max_retries < 0:
            raise InputError("--retries must be 0 or more")
        self.settings = settings
        self.base_url = normalize_base_url(settings.base_url)
        self.stats = ClientStats()
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)
        self._key = os.environ.get(settings.api_key_env) or None
        if self._key is None and settings.api_key_env != DEFAULT_KEY_ENV:
            raise InputError(
                f"--api-key-env {settings.api_key_env}: that environment variable is not set"
            )

    # -- plumbing ---------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._key is not None:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    def _refusal(self, status: int, body: Any, text: str, what: str) -> ServerError:
        """The error for a response that retrying cannot fix."""
        message = _message(body, text)
        self.stats.errors[str(status)] += 1
        if status in (401, 403):
            if self._key is None:
                how = (
                    f"the server wants an API key: set {self.settings.api_key_env} (or name "
                    "another variable with --api-key-env)"
                )
            else:
                how = (
                    f"the server refused the API key from ${self.settings.api_key_env}: check "
                    "that it is valid and allowed to use this model"
                )
            return ServerError(f"{how} (HTTP {status}: {message})")
        if _CONTEXT.search(message):
            self.stats.errors["context_length"] += 1
            return ContextLengthError(
                f"{what} is longer than the served model's context (HTTP {status}: {message}). "
                "Start the server with a larger --max-model-len, or shorten the prompts "
                "(fewer captions: --top-k)."
            )
        if status == 404:
            if "model" in message.lower():
                return ServerError(
                    f"the server does not serve that model (HTTP 404: {message}); pass one of "
                    "the names it lists at /v1/models with --served-model"
                )
            return ServerError(
                f"{self.base_url} has no such endpoint (HTTP 404: {message}): --base-url must "
                "be the API root (ending in /v1), and the server must offer this API "
                "(--api chat or --api completions)"
            )
        return ServerError(f"the server refused {what} (HTTP {status}: {message})")

    def _unreachable(self, reason: str, detail: str, attempts: int) -> ServerError:
        self.stats.errors[reason] += 1
        if reason == "connection":
            return ServerError(
                f"cannot reach the server at {self.base_url} after {attempts} attempts "
                f"({detail}): start it, or check --base-url"
            )
        if reason == "timeout":
            return ServerError(
                f"the server at {self.base_url} did not answer within --timeout "
                f"{self.settings.timeout:g} s, {attempts} attempts: raise --timeout, lower "
                "--concurrency, or check the server"
            )
        return ServerError(
            f"the server at {self.base_url} kept answering {reason} ({detail}) after "
            f"{attempts} attempts: raise --retries, lower --concurrency, or check the server"
        )

    async def _fetch(self, client: Any, method: str, path: str, body: Any) -> tuple[Any, bytes]:
        """The response and its body, within ``timeout`` seconds in all (not per read) and at
        most :data:`MAX_REPLY_BYTES` long."""
        import httpx

        async def read() -> tuple[Any, bytes]:
            async with client.stream(method, path, json=body) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.settings.max_reply_bytes:
                        raise ReplyTooLarge(
                            f"the server's reply to {path} is over "
                            f"{self.settings.max_reply_bytes:,} bytes: a Yes/No answer is a few "
                            "kilobytes; check --base-url and --max-new-tokens"
                        )
                    chunks.append(chunk)
                return response, b"".join(chunks)

        try:
            return await asyncio.wait_for(read(), timeout=self.settings.timeout)
        except asyncio.TimeoutError:
            raise httpx.ReadTimeout("no complete response within --timeout") from None

    async def _send(self, client: Any, method: str, path: str, body: Any, what: str) -> Any:
        """One request with retries; the decoded JSON of the first good response."""
        import httpx

        attempt = 0
        while True:
            wait: float | None = None
            self.stats.requests += 1
            try:
                response, content = await self._fetch(client, method, path, body)
                status = response.status_code
                text = self.redact(content.decode("utf-8", errors="replace"))
                if 300 <= status < 400:
                    self.stats.errors[str(status)] += 1
                    raise ServerError(
                        f"the server redirected {what} (HTTP {status} to "
                        f"{redact_url(response.headers.get('location') or '?')!r}): --base-url "
                        "must be the API root itself"
                    )
                if status < 300:
                    try:
                        data = json.loads(content)
                    except ValueError:
                        reason, detail = "bad_response", "a body that is not JSON"
                    else:
                        self.stats.responses += 1
                        return data
                elif status == 429 or status >= 500:
                    reason, detail = str(status), _message(_json_or_none(text), text)
                    wait = retry_after_seconds(response.headers.get("retry-after"))
                else:
                    raise self._refusal(status, _json_or_none(text), text, what)
            except httpx.TimeoutException as exc:
                reason, detail = "timeout", type(exc).__name__
            except httpx.TransportError as exc:
                reason, detail = (
                    "connection",
                    self.redact(f"{type(exc).__name__}: {exc}").rstrip(": "),
                )
            if attempt >= self.settings.max_retries:
                raise self._unreachable(reason, detail, attempt + 1)
            if wait is not None:
                delay = min(wait, self.settings.retry_after_max)
                delay += self._rng.random() * min(1.0, 0.1 * delay)
            else:
                delay = backoff_seconds(
                    attempt, self.settings.backoff_base, self.settings.backoff_max, self._rng
                )
            self.stats.retries[reason] += 1
            self.stats.retry_wait_seconds += delay
            await asyncio.sleep(delay)
            attempt += 1

    def redact(self, text: str) -> str:
        """``text`` without the API key (a server may echo it in an error message)."""
        if self._key:
            text = text.replace(self._key, "***")
        return text

    def _client(self) -> Any:
        import httpx

        limits = httpx.Limits(
            max_connections=self.settings.concurrency,
            max_keepalive_connections=self.settings.concurrency,
        )
        return httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=self._headers(),
            timeout=httpx.Timeout(self.settings.timeout),
            limits=limits,
        )

    # -- requests ---------------------------------------------------------------------------

    def get(self, path: str) -> Any:
        """One GET (with retries), e.g. ``models``."""

        async def run() -> Any:
            async with self._client() as client:
                return await self._send(client, "GET", path, None, f"GET {path}")

        return asyncio.run(run())

    def get_optional(self, url: str) -> Any:
        """One GET of ``url`` (absolute) without retries, bounded by ``--timeout`` and the
        reply size limit: its JSON on a 200, else None (an optional endpoint such as
        ``/version``)."""
        import httpx

        async def run() -> Any:
            async with self._client() as client:
                response, content = await self._fetch(client, "GET", url, None)
            return json.loads(content) if response.status_code == 200 else None

        try:
            return asyncio.run(run())
        except (httpx.HTTPError, ValueError, ServerError):
            return None

    def post_many(
        self,
        path: str,
        bodies: Sequence[Any],
        *,
        what: Callable[[int], str] = lambda i: f"request {i}",
        done: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        """POST every body concurrently; results in order. ``done(i, result)`` as each arrives.

        When a request fails for good, the others still in flight are cancelled and
        :class:`BatchFailure` carries the results that did arrive.
        """
        return asyncio.run(self._post_many(path, bodies, what, done))

    async def _post_many(
        self,
        path: str,
        bodies: Sequence[Any],
        what: Callable[[int], str],
        done: Callable[[int, Any], None] | None,
    ) -> list[Any]:
        results: dict[int, Any] = {}
        gate = asyncio.Semaphore(self.settings.concurrency)
        async with self._client() as client:

            async def one(index: int) -> None:
                async with gate:
                    result = await self._send(client, "POST", path, bodies[index], what(index))
                results[index] = result
                if done is not None:
                    done(index, result)

            tasks = [asyncio.create_task(one(i)) for i in range(len(bodies))]
            try:
                finished, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            except BaseException:
                for task in tasks:
                    task.cancel()
                raise
            failure = next((t.exception() for t in finished if t.exception() is not None), None)
            if failure is not None:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                raise BatchFailure(failure, results) from failure
        return [results[i] for i in range(len(bodies))]


class BatchFailure(AmberEvalError):
    """A request failed for good; ``results`` holds those that arrived before."""

    def __init__(self, cause: BaseException, results: dict[int, Any]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.results = dict(results)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
