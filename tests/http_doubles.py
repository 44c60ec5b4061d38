"""Loopback HTTP servers for the engine-backend tests (127.0.0.1, ephemeral ports, threads).

- :class:`FakeOpenAIServer`: a small OpenAI-compatible server (``/v1/models``, ``/version``,
  ``/v1/chat/completions``, ``/v1/completions``) whose answer is a rule of the prompt: "Yes"
  when the prompt holds ``yes_word``, else "No", with log-probabilities. Options make it ask for
  a key, leave out log-probabilities, refuse long prompts or start with a whitespace token.
  ``hostile`` replaces chosen POST replies (``hostile_get``: GET replies, by path) by
  :class:`Reply` bodies written to misbehave (malformed JSON shapes, bad log-probabilities,
  redirects, bodies dripped a byte at a time).
- :class:`FaultProxy`: a reverse proxy in front of any server (the fake one, or a real vLLM)
  that injects faults into POST requests by a repeating plan: ``429`` (with ``Retry-After``),
  ``500``, ``drop`` (the connection closed before the request is forwarded) and
  ``drop-after`` (forwarded, the server's answer thrown away, the connection closed).
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

YES_LOGPROB = math.log(0.7)
NO_LOGPROB = math.log(0.2)
OTHER_LOGPROB = math.log(0.05)


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:
        return

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


@dataclass(frozen=True)
class Reply:
    """A reply sent as given: ``body`` (bytes as they are, anything else as JSON, NaN and
    Infinity included), ``status``, extra ``headers``; ``drip`` seconds between bytes."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    drip: float | None = None

    def payload(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


Hostile = Callable[[int, dict[str, Any], dict[str, Any]], "Reply | None"]
"""``(n, request, good_reply) -> Reply | None``: the ``n``-th POST's reply (0-based, the
probe included), or None for the good one."""


class FakeOpenAIServer:
    """See the module docstring. ``requests`` lists the decoded POST bodies received."""

    def __init__(
        self,
        *,
        model: str = "fake-judge",
        yes_word: str = "dog",
        api_key: str | None = None,
        logprobs: bool = True,
        max_prompt_chars: int | None = None,
        whitespace_first: bool = False,
        fingerprint: str | None = "fake-fp-1",
        hostile: Hostile | None = None,
        hostile_get: Callable[[str], Reply | None] | None = None,
        models: list[dict[str, Any]] | None = None,
    ) -> None:
        self.model = model
        self.yes_word = yes_word
        self.api_key = api_key
        self.logprobs = logprobs
        self.max_prompt_chars = max_prompt_chars
        self.whitespace_first = whitespace_first
        self.fingerprint = fingerprint
        self.hostile = hostile
        self.hostile_get = hostile_get
        self.models = models
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(_Quiet):
            def do_GET(self) -> None:
                if not server._authorized(self):
                    return
                bad = None if server.hostile_get is None else server.hostile_get(self.path)
                if bad is not None:
                    self._send_reply(bad)
                elif self.path == "/v1/models":
                    self._send_json(
                        200,
                        {
                            "object": "list",
                            "data": server.models
                            if server.models is not None
                            else [
                                {
                                    "id": server.model,
                                    "root": f"/models/{server.model}",
                                    "max_model_len": 2048,
                                    "owned_by": "fake",
                                    "created": 1,
                                }
                            ],
                        },
                    )
                elif self.path == "/version":
                    self._send_json(200, {"version": "fake-1.0"})
                else:
                    self._send_json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                data = json.loads(self._body() or b"{}")
                with server._lock:
                    number = len(server.requests)
                    server.requests.append(data)
                    server.headers.append(dict(self.headers))
                if not server._authorized(self):
                    return
                if data.get("model") != server.model:
                    self._send_json(
                        404,
                        {"error": {"message": f"The model `{data.get('model')}` does not exist."}},
                    )
                    return
                if self.path == "/v1/chat/completions":
                    text = " ".join(m["content"] for m in data["messages"])
                elif self.path == "/v1/completions":
                    text = str(data["prompt"])
                else:
                    self._send_json(404, {"error": {"message": "Not Found"}})
                    return
                if server.max_prompt_chars is not None and len(text) > server.max_prompt_chars:
                    self._send_json(
                        400,
                        {
                            "error": {
                                "message": "This model's maximum context length is 2048 tokens. "
                                "However, you requested 4000 tokens.",
                                "type": "BadRequestError",
                            }
                        },
                    )
                    return
                good = server._completion(self.path, data, text)
                bad = None if server.hostile is None else server.hostile(number, data, good)
                if bad is None:
                    self._send_json(200, good)
                else:
                    self._send_reply(bad)

            def _send_reply(self, reply: Reply) -> None:
                body = reply.payload()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if reply.drip is None:
                    self.wfile.write(body)
                    return
                with contextlib.suppress(OSError):
                    for index in range(len(body)):
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()
                        time.sleep(reply.drip)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _authorized(self, handler: _Quiet) -> bool:
        if self.api_key is None:
            return True
        if handler.headers.get("Authorization") == f"Bearer {self.api_key}":
            return True
        handler._send_json(401, {"error": {"message": "Incorrect API key provided"}})
        return False

    def answer_for(self, text: str) -> str:
        return "Yes" if self.yes_word in text else "No"

    def _tokens(
        self, text: str, max_tokens: int
    ) -> list[tuple[str, float, list[tuple[str, float]]]]:
        answer = self.answer_for(text)
        other = "No" if answer == "Yes" else "Yes"
        steps = []
        if self.whitespace_first:
            steps.append((" ", -0.05, [(" ", -0.05), (answer, -3.0)]))
        alternatives = [(answer, YES_LOGPROB), (other, NO_LOGPROB), ("Maybe", OTHER_LOGPROB)]
        steps.append((answer, YES_LOGPROB, alternatives))
        steps.append((".", -0.1, [(".", -0.1), ("!", -2.5)]))
        return steps[:max_tokens]

    def _completion(self, path: str, data: dict[str, Any], text: str) -> dict[str, Any]:
        steps = self._tokens(text, int(data.get("max_tokens") or 16))
        content = "".join(token for token, _lp, _top in steps)
        finish = "length" if len(steps) == int(data.get("max_tokens") or 16) else "stop"
        if path == "/v1/chat/completions":
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
                "logprobs": None,
            }
            if self.logprobs and data.get("logprobs"):
                k = int(data.get("top_logprobs") or 0)
                choice["logprobs"] = {
                    "content": [
                        {
                            "token": token,
                            "logprob": lp,
                            "top_logprobs": [{"token": t, "logprob": v} for t, v in top[:k]],
                        }
                        for token, lp, top in steps
                    ]
                }
        else:
            choice = {"index": 0, "text": content, "finish_reason": finish, "logprobs": None}
            if self.logprobs and data.get("logprobs"):
                k = int(data["logprobs"])
                choice["logprobs"] = {
                    "tokens": [token for token, _lp, _top in steps],
                    "token_logprobs": [lp for _token, lp, _top in steps],
                    "top_logprobs": [dict(top[:k]) for _token, _lp, top in steps],
                }
        body: dict[str, Any] = {"object": "completion", "model": self.model, "choices": [choice]}
        if self.fingerprint is not None:
            body["system_fingerprint"] = self.fingerprint
        return body

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FaultProxy:
    """A reverse proxy to ``upstream`` (``http://host:port``) injecting faults by ``plan``.

    ``plan`` is repeated over the POST requests (with ``after``, it runs once and ``after`` is
    applied to every later request): ``ok``, ``429``, ``500``, ``drop`` or ``drop-after``.
    ``injected`` counts the faults sent; ``forwarded`` the requests that reached the upstream.
    """

    def __init__(
        self,
        upstream: str,
        plan: Sequence[str],
        *,
        retry_after: str = "0.2",
        after: str | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.plan = list(plan)
        self.after = after
        self.retry_after = retry_after
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self._posts = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(_Quiet):
            def _forward(self, method: str, body: bytes | None) -> tuple[int, bytes, str]:
                import httpx

                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                response = httpx.request(
                    method,
                    proxy.upstream + self.path,
                    content=body,
                    headers=headers,
                    timeout=300,
                )
                with proxy._lock:
                    proxy.forwarded += 1
                return (
                    response.status_code,
                    response.content,
                    response.headers.get("content-type", ""),
                )

            def _reply(self, status: int, content: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind or "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def _drop(self) -> None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            def do_GET(self) -> None:
                self._reply(*self._forward("GET", None))

            def do_POST(self) -> None:
                body = self._body()
                with proxy._lock:
                    if proxy.after is not None and proxy._posts >= len(proxy.plan):
                        action = proxy.after
                    else:
                        action = proxy.plan[proxy._posts % len(proxy.plan)]
                    proxy._posts += 1
                if action != "ok":
                    with proxy._lock:
                        proxy.injected[action] += 1
                if action == "429":
                    self._send_json(
                        429,
                        {"error": {"message": "rate limited"}},
                        {"Retry-After": proxy.retry_after},
                    )
                elif action == "500":
                    self._send_json(500, {"error": {"message": "injected failure"}})
                elif action == "drop":
                    self._drop()
                elif action == "drop-after":
                    self._forward("POST", body)
                    self._drop()
                else:
                    self._reply(*self._forward("POST", body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def fake_behind_proxy(
    plan: Sequence[str], *, after: str | None = None, **fake: Any
) -> Iterator[tuple[FakeOpenAIServer, FaultProxy]]:
    """A :class:`FakeOpenAIServer` with a :class:`FaultProxy` in front of it."""
    with FakeOpenAIServer(**fake) as server:
        upstream = server.base_url.removesuffix("/v1")
        with FaultProxy(upstream, plan, after=after) as proxy:
            yield server, proxy
