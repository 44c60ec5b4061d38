"""The ``openai`` backend: a judge on any OpenAI-compatible server.

Two APIs:

- ``chat`` (``/v1/chat/completions``): the prompt goes as messages and the server applies its
  chat template; the identity records ``chat_template: "server"``. What the store keys on is the
  canonical JSON of the messages.
- ``completions`` (``/v1/completions``): the client renders the prompt with the model's own
  tokenizer and chat template, exactly as the HF backend does, and sends that text; the
  identity records the template's sha256. When the rendered text already starts with the
  tokenizer's BOS token, the request says ``add_special_tokens: false`` (vLLM, SGLang), so the
  server does not add a second one.

The identity holds the served model as the server reports it (``/v1/models``: id, root, max
model length, owner), the engine's version (``/version``) and ``system_fingerprint`` when the
server sends them, the API, and the decoding settings; never the URL or the key, so the same
model served elsewhere reuses the stored answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval.errors import InputError, ResourceError
from amber_eval.judge.chat import chat_messages, render_chat, template_sha256
from amber_eval.judge.engine import NO_LOGPROBS, Completion, EngineJudge, PartialCompletions
from amber_eval.judge.logprob_rule import TokenStep
from amber_eval.judge.openai_client import BatchFailure, ClientSettings, OpenAIClient, ServerError
from amber_eval.judge_options import JudgeOptions

if TYPE_CHECKING:
    from amber_eval.judge.presets import Preset

APIS = ("chat", "completions")
_MODEL_FACTS = ("id", "root", "max_model_len", "owned_by", "parent")


@dataclass(frozen=True)
class ServedModel:
    """What ``/v1/models`` says about the model (facts that name it, not when it started)."""

    facts: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.facts["id"])


def pick_model(listing: Any, wanted: str | None, llm: str | None) -> ServedModel:
    """The model to ask: ``wanted`` (``--served-model``), else the only one listed, else the one
    whose id is ``llm``."""
    data = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(data, list):
        raise ServerError(
            "the server's /v1/models answer has no model list: is --base-url an "
            "OpenAI-compatible API root (ending in /v1)?"
        )
    models = {str(m.get("id")): m for m in data if isinstance(m, dict) and m.get("id")}
    names = ", ".join(sorted(models)) or "none"
    if wanted is not None:
        if wanted not in models:
            raise ServerError(
                f"the server does not serve {wanted!r}; it serves: {names}. Pass one of them "
                "with --served-model"
            )
        chosen = models[wanted]
    elif len(models) == 1:
        chosen = next(iter(models.values()))
    elif llm is not None and llm in models:
        chosen = models[llm]
    else:
        raise ServerError(
            f"the server serves {len(models)} models ({names}); choose one with --served-model"
        )
    facts = {key: chosen[key] for key in _MODEL_FACTS if chosen.get(key) is not None}
    return ServedModel(facts)


def _steps_chat(choice: dict[str, Any]) -> tuple[tuple[TokenStep, ...], bool]:
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict) or logprobs.get("content") is None:
        return (), False
    steps = []
    for entry in logprobs["content"]:
        top = tuple(
            (str(alt.get("token", "")), float(alt["logprob"]))
            for alt in entry.get("top_logprobs") or []
            if alt.get("logprob") is not None
        )
        value = entry.get("logprob")
        steps.append(
            TokenStep(str(entry.get("token", "")), None if value is None else float(value), top)
        )
    return tuple(steps), True


def _steps_completions(choice: dict[str, Any]) -> tuple[tuple[TokenStep, ...], bool]:
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict) or logprobs.get("tokens") is None:
        return (), False
    tokens = logprobs.get("tokens") or []
    values = logprobs.get("token_logprobs") or [None] * len(tokens)
    tops = logprobs.get("top_logprobs") or [None] * len(tokens)
    steps = []
    for token, value, top in zip(tokens, values, tops, strict=False):
        alternatives = tuple(
            sorted(
                ((str(t), float(lp)) for t, lp in (top or {}).items() if lp is not None),
                key=lambda pair: -pair[1],
            )
        )
        steps.append(TokenStep(str(token), None if value is None else float(value), alternatives))
    return tuple(steps), True


def parse_completion(api: str, data: Any) -> Completion:
    """A :class:`Completion` from a chat or completions response body."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices:
        raise ServerError(f"the server's answer has no choices: {str(data)[:200]}")
    choice = choices[0]
    if api == "chat":
        message = choice.get("message") or {}
        text = str(message.get("content") or "")
        steps, has = _steps_chat(choice)
    else:
        text = str(choice.get("text") or "")
        steps, has = _steps_completions(choice)
    return Completion(
        text=text, steps=steps, logprobs=has, finish_reason=choice.get("finish_reason")
    )


class OpenAICompleter:
    """Greedy completions from one served model through the chat or the completions API."""

    def __init__(
        self,
        client: OpenAIClient,
        *,
        api: str,
        model: str,
        top_logprobs: int,
        build: Callable[[str], dict[str, Any]],
    ) -> None:
        self.client = client
        self.api = api
        self.model = model
        self.top_logprobs = top_logprobs
        self._build = build
        self.system_fingerprints: set[str] = set()

    def body(self, prompt: str, max_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            **self._build(prompt),
            "max_tokens": max_tokens,
            "temperature": 0,
            "top_p": 1,
            "n": 1,
            "stream": False,
        }
        if self.api == "chat":
            body.update(logprobs=True, top_logprobs=self.top_logprobs)
        else:
            body["logprobs"] = self.top_logprobs
        return body

    def complete(
        self,
        prompts: Sequence[str],
        *,
        max_tokens: int,
        done: Callable[[int], None] | None = None,
    ) -> list[Completion]:
        path = "chat/completions" if self.api == "chat" else "completions"
        bodies = [self.body(p, max_tokens) for p in prompts]

        def what(index: int) -> str:
            text = " ".join(prompts[index].split())
            return f"the prompt {text[:70]!r}{'...' if len(text) > 70 else ''}"

        def arrived(index: int, data: Any) -> None:
            fingerprint = data.get("system_fingerprint") if isinstance(data, dict) else None
            if fingerprint:
                self.system_fingerprints.add(str(fingerprint))
            if done is not None:
                done(index)

        try:
            results = self.client.post_many(path, bodies, what=what, done=arrived)
        except BatchFailure as exc:
            completed = {i: parse_completion(self.api, r) for i, r in exc.results.items()}
            raise PartialCompletions(str(exc.cause), completed) from exc.cause
        return [parse_completion(self.api, r) for r in results]


def _tokenizer_source(
    source: str, preset: Preset | None, tokenizer: str | None
) -> tuple[str, bool]:
    """Where the model's tokenizer is (``--tokenizer``, else what ``--llm`` loads in the HF
    backend, a GGUF file's cached folder), and whether loading it needs no network."""
    if tokenizer is not None:
        return tokenizer, True
    from amber_eval.judge.loading import model_folder

    folder, _facts = model_folder(source, preset=preset, check=False)
    return folder, Path(folder).is_dir()


def _load_tokenizer(source: str, trust_remote_code: bool) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise ResourceError(
            f"cannot load the tokenizer of {source!r} ({type(exc).__name__}): the completions "
            "API renders the chat template on this side; pass --tokenizer with a hub id or a "
            "folder holding the served model's tokenizer, or use --api chat"
        ) from exc


def load_openai_judge(
    source: str, *, preset: Preset | None, options: JudgeOptions | None = None
) -> EngineJudge:
    """An :class:`EngineJudge` on the server at ``options.base_url``.

    ``source`` (what ``--llm`` names) picks the served model when ``--served-model`` is not
    given and the server lists several, and is where the tokenizer comes from (completions
    API, token counts) unless ``--tokenizer`` says otherwise.
    """
    options = options if options is not None else JudgeOptions(backend="openai")
    llm = preset.name if preset is not None else source
    if options.api not in APIS:
        raise InputError(f"unknown --api {options.api!r}; use chat or completions")
    settings = ClientSettings(
        base_url=options.base_url or "",
        api_key_env=options.api_key_env,
        timeout=options.timeout,
        max_retries=options.max_retries,
        concurrency=options.concurrency,
    )
    client = OpenAIClient(settings)
    served = pick_model(client.get("models"), options.served_model, llm)
    identity: dict[str, Any] = {
        "backend": "openai",
        "served_model": served.facts,
        "api": options.api,
        "engine_version": _engine_version(client),
        "dtype": options.dtype,
        "system_prompt": options.system_prompt,
    }
    tokenizer = None
    where, local = _tokenizer_source(source, preset, options.tokenizer)
    if options.api == "completions":
        tokenizer = _load_tokenizer(where, options.trust_remote_code)
        from amber_eval.judge.chat import require_template

        require_template(tokenizer, llm, raw_prompt=options.raw_prompt)
    elif local:  # for the prompt-token count only
        tokenizer = _load_tokenizer(where, options.trust_remote_code)
    build, render, extra = _request_shape(options, tokenizer)
    identity.update(extra)
    completer = OpenAICompleter(
        client, api=options.api, model=served.id, top_logprobs=options.top_logprobs, build=build
    )
    identity["system_fingerprint"] = probe(completer, options.answer_mode)
    count = None
    if tokenizer is not None:
        counted = tokenizer

        def count(prompt: str) -> int:
            text = render_chat(
                counted, prompt, system_prompt=options.system_prompt, raw_prompt=options.raw_prompt
            )
            return len(counted(text, add_special_tokens=options.raw_prompt)["input_ids"])

    return EngineJudge(
        completer,
        identity=identity,
        render=render,
        mode=options.answer_mode,
        max_new_tokens=options.max_new_tokens,
        top_logprobs=options.top_logprobs,
        prompt_tokens=count,
        context_limit=_int_or_none(served.facts.get("max_model_len")),
        client_stats=client.stats.to_json,
    )


PROBE_PROMPT = "Is water wet? Answer Yes or No."


def probe(completer: OpenAICompleter, mode: str) -> str | None:
    """One one-token request before the run: the server's ``system_fingerprint`` (None if it
    sends none), and in score mode a clear error at once if it returns no log-probabilities."""
    completion = completer.complete([PROBE_PROMPT], max_tokens=1)[0]
    if mode == "score" and not completion.logprobs:
        raise ResourceError(NO_LOGPROBS)
    fingerprints = sorted(completer.system_fingerprints)
    return fingerprints[0] if fingerprints else None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _engine_version(client: OpenAIClient) -> str | None:
    """The engine's version from ``/version`` (vLLM, SGLang's ``get_server_info`` aside), else
    None. A server without that endpoint is not an error."""
    import httpx

    from amber_eval.judge.openai_client import server_root

    try:
        response = httpx.get(
            server_root(client.base_url) + "/version",
            timeout=client.settings.timeout,
            headers=client._headers(),
        )
        if response.status_code == 200:
            version = response.json().get("version")
            return None if version is None else str(version)
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return None


def _request_shape(
    options: JudgeOptions, tokenizer: Any
) -> tuple[Callable[[str], dict[str, Any]], Callable[[str], str], dict[str, Any]]:
    """How a prompt becomes a request body, the text the store keys on, and identity facts."""
    if options.api == "chat":
        if options.raw_prompt:
            raise InputError(
                "--raw-prompt sends the prompt without a chat template, which the chat API "
                "always applies: use --api completions with --raw-prompt"
            )

        def build_chat(prompt: str) -> dict[str, Any]:
            return {"messages": chat_messages(prompt, options.system_prompt)}

        def render_messages(prompt: str) -> str:
            return json.dumps(build_chat(prompt), sort_keys=True, ensure_ascii=False)

        return build_chat, render_messages, {"chat_template": "server"}

    bos = getattr(tokenizer, "bos_token", None)

    def render_text(prompt: str) -> str:
        return render_chat(
            tokenizer, prompt, system_prompt=options.system_prompt, raw_prompt=options.raw_prompt
        )

    def build_completion(prompt: str) -> dict[str, Any]:
        text = render_text(prompt)
        body: dict[str, Any] = {"prompt": text}
        if bos and text.startswith(bos):
            body["add_special_tokens"] = False
        return body

    extra = {
        "chat_template": not options.raw_prompt,
        "chat_template_sha256": template_sha256(tokenizer, raw_prompt=options.raw_prompt),
    }
    return build_completion, render_text, extra
