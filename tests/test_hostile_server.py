"""The ``openai`` backend against a server written to misbehave (127.0.0.1, ephemeral ports).

Every reply body here is one a broken or hostile server has sent: malformed JSON shapes, bad
log-probabilities, answers from another build, a body dripped a byte at a time, a huge body, a
redirect, a key echoed in an error. The judge must stop with an :class:`AmberEvalError` naming
what was wrong (exit code 2 on the command line) after keeping every answer already received,
and never turn a bad reply into a number.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from http_doubles import FakeOpenAIServer, Hostile, Reply

from amber_eval.errors import InputError
from amber_eval.judge import load_judge
from amber_eval.judge.engine import PartialAnswers
from amber_eval.judge.openai_backend import MalformedReply, parse_completion
from amber_eval.judge.openai_client import ServerError

RunCli = Callable[[list[str]], tuple[int, str, str]]
PROMPTS = [f"Is there a {w} in this image?" for w in ("dog", "cat", "tree", "dog")]
KEY = "sk-hostile-5ecret-key"


def _judge(url: str, **options: Any) -> Any:
    return load_judge("fake-judge", backend="openai", base_url=url, **options)


def after_probe(change: Callable[[dict[str, Any]], Any], first: int = 1) -> Hostile:
    """Replies from the ``first``-th POST on (the probe is POST 0): ``change`` applied to a
    copy of the good body; it returns a new body, or None after changing the copy in place."""

    def hostile(number: int, _request: dict[str, Any], good: dict[str, Any]) -> Reply | None:
        if number < first:
            return None
        body = copy.deepcopy(good)
        changed = change(body)
        return Reply(body if changed is None else changed)

    return hostile


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set the field at a dotted ``path`` (list indices as numbers) of the good body."""

    def change(body: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = body
        for part in parents:
            target = target[part]
        target[last] = value

    return change


CHAT_TOP = "choices.0.logprobs.content.0.top_logprobs"
MALFORMED_CHAT = {
    "top_logprobs a number": (_set(CHAT_TOP, 5), "top_logprobs is not a list"),
    "top_logprobs a list of numbers": (
        _set(CHAT_TOP, [-0.1, -2.0]),
        r"top_logprobs\[0\] is not an object",
    ),
    "choices a string": (lambda body: {"choices": "Yes"}, "choices is not a list"),
    "choices a dict": (
        lambda body: {"choices": {"0": body["choices"][0]}},
        "choices is not a list",
    ),
    "choices [null]": (lambda body: {"choices": [None]}, r"choices\[0\] is not an object"),
    "message a string": (_set("choices.0.message", "oops"), "message is not an object"),
    "content a number": (_set("choices.0.logprobs.content", 3), "logprobs.content is not a list"),
    "logprobs a string": (_set("choices.0.logprobs", "yes"), "logprobs is not an object"),
    "a step not an object": (
        _set("choices.0.logprobs.content", [5]),
        r"content\[0\] is not an object",
    ),
    "a token a number": (
        _set("choices.0.logprobs.content.0.token", 5),
        r"content\[0\].token is not a string",
    ),
    "message content a list": (
        _set("choices.0.message.content", ["Yes"]),
        "content is not a string",
    ),
}
BAD_LOGPROBS = {
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
    "1e999 as a string": "1e999",
    "a numeric string": "-0.5",
    "true": True,
    "positive": 0.5,
    "null": None,
}


@pytest.mark.parametrize("name", list(MALFORMED_CHAT))
def test_a_malformed_chat_reply_is_an_error_naming_the_field(name: str) -> None:
    change, message = MALFORMED_CHAT[name]
    with FakeOpenAIServer(hostile=after_probe(change)) as server:
        judge = _judge(server.base_url, concurrency=1)
        with pytest.raises(MalformedReply, match=message):
            judge.answer(PROMPTS[:1])


@pytest.mark.parametrize("name", list(BAD_LOGPROBS))
def test_a_bad_log_probability_is_never_a_number(name: str) -> None:
    """A "No" alternative whose log-probability is not a finite number at most 0: before,
    NaN was dropped and the answer read P(yes) 1.0, unflagged."""
    value = BAD_LOGPROBS[name]
    hostile = after_probe(_set(CHAT_TOP + ".1.logprob", value))
    with FakeOpenAIServer(hostile=hostile) as server:
        judge = _judge(server.base_url)
        with pytest.raises(MalformedReply, match=r"top_logprobs\[1\].logprob is not"):
            judge.answer(PROMPTS[:1])


def test_completions_bodies_of_the_wrong_shape() -> None:
    good = {
        "choices": [
            {
                "text": "Yes",
                "finish_reason": "length",
                "logprobs": {
                    "tokens": ["Yes"],
                    "token_logprobs": [-0.1],
                    "top_logprobs": [{"Yes": -0.1, "No": -2.5}],
                },
            }
        ]
    }
    assert parse_completion("completions", good).steps[0].top == (("Yes", -0.1), ("No", -2.5))
    cases = {
        "top_logprobs a list of lists": (
            ("top_logprobs", [[["Yes", -0.1]]]),
            r"top_logprobs\[0\] is not an object",
        ),
        "token_logprobs strings": (
            ("token_logprobs", ["-0.1"]),
            "token_logprobs\\[0\\] is not a number",
        ),
        "tokens a string": (("tokens", "Yes"), "logprobs.tokens is not a list"),
        "an alternative NaN": (
            ("top_logprobs", [{"Yes": -0.1, "No": float("nan")}]),
            "not a finite",
        ),
    }
    for field, value in [case for case, _message in cases.values()]:
        body = copy.deepcopy(good)
        body["choices"][0]["logprobs"][field] = value
        message = next(m for (f, v), m in cases.values() if f == field and v == value)
        with pytest.raises(MalformedReply, match=message):
            parse_completion("completions", body)
    body = copy.deepcopy(good)
    body["choices"][0]["text"] = 5
    with pytest.raises(MalformedReply, match=r"choices\[0\].text is not a string"):
        parse_completion("completions", body)


def test_a_malformed_reply_mid_batch_keeps_the_answers_received_before() -> None:
    """One request at a time: three good replies, then ``message: "oops"``."""
    hostile = after_probe(_set("choices.0.message", "oops"), first=4)
    with FakeOpenAIServer(hostile=hostile) as server:
        judge = _judge(server.base_url, concurrency=1)
        with pytest.raises(PartialAnswers) as caught:
            judge.answer(PROMPTS)
    assert sorted(caught.value.answers) == [0, 1, 2]
    assert [caught.value.answers[i].parsed for i in range(3)] == ["yes", "no", "no"]
    assert isinstance(caught.value.cause, MalformedReply)


def test_an_empty_token_list_is_a_server_fault_not_an_unknown_answer() -> None:
    hostile = after_probe(_set("choices.0.logprobs.content", []))
    with FakeOpenAIServer(hostile=hostile) as server:
        judge = _judge(server.base_url)
        with pytest.raises(MalformedReply, match="logprobs lists no token"):
            judge.answer(PROMPTS[:2])


def test_an_empty_answer_that_stopped_is_an_unknown_answer() -> None:
    """A model that stops at once (no token, finish ``stop``) answered nothing: that is an
    answer (unknown, flagged), not a fault."""
    body = {"choices": [{"message": {"content": ""}, "finish_reason": "stop", "logprobs": {"content": []}}]}  # fmt: skip
    completion = parse_completion("chat", body)
    assert (completion.text, completion.steps, completion.logprobs) == ("", (), True)


def test_a_changed_system_fingerprint_mid_run_is_an_error() -> None:
    hostile = after_probe(_set("system_fingerprint", "fake-fp-2"), first=3)
    with FakeOpenAIServer(hostile=hostile) as server:
        judge = _judge(server.base_url, concurrency=1)
        assert judge.identity["system_fingerprint"] == "fake-fp-1"
        with pytest.raises(PartialAnswers) as caught:
            judge.answer(PROMPTS)
    assert sorted(caught.value.answers) == [0, 1]
    assert "system_fingerprint changed from 'fake-fp-1' to 'fake-fp-2'" in str(caught.value)


def test_timeout_bounds_the_whole_response_not_each_read() -> None:
    """A body dripped one byte every 20 ms (a reply of about 500 bytes: 10 s) with
    ``--timeout 1``: each read is quick, the response is not."""

    def drip(number: int, _request: dict[str, Any], good: dict[str, Any]) -> Reply | None:
        return Reply(good, drip=0.02) if number >= 1 else None

    with FakeOpenAIServer(hostile=drip) as server:
        judge = _judge(server.base_url, timeout=1.0, max_retries=0)
        with pytest.raises(ServerError, match="did not answer within --timeout 1 s"):
            judge.answer(PROMPTS[:1])


def test_a_dripping_optional_endpoint_does_not_hold_up_loading() -> None:
    """``/version`` dripped a byte every 50 ms (about 10 s) with ``--timeout 1``: the engine
    version is left out after 1 s, not read for 10."""

    def drip(path: str) -> Reply | None:
        return Reply({"version": "x" * 200}, drip=0.05) if path == "/version" else None

    with FakeOpenAIServer(hostile_get=drip) as server:
        judge = _judge(server.base_url, timeout=1.0)
    assert judge.identity["engine_version"] is None


def test_a_reply_over_the_size_limit_is_refused() -> None:
    huge = "Yes " * (5 << 20 >> 2)  # 5 MiB of text
    with FakeOpenAIServer(hostile=after_probe(_set("choices.0.message.content", huge))) as server:
        judge = _judge(server.base_url, answer_mode="generate")
        with pytest.raises(ServerError, match="reply to chat/completions is over 4,194,304 bytes"):
            judge.answer(PROMPTS[:1])


def test_generate_mode_keeps_what_max_new_tokens_allows_and_flags_the_rest() -> None:
    long = "Yes" + "!" * 1_000_000
    hostile = after_probe(_set("choices.0.message.content", long))
    with FakeOpenAIServer(logprobs=False, hostile=hostile) as server:
        judge = _judge(server.base_url, answer_mode="generate", max_new_tokens=5)
        (answer,) = judge.answer(PROMPTS[:1])
    assert answer.text == long[: 5 * 64] and answer.flagged
    steps = [
        {"token": t, "logprob": -0.1, "top_logprobs": []}
        for t in ["Yes", ".", " It", " is", " a", " dog"]
    ]
    hostile = after_probe(_set("choices.0.logprobs.content", steps))
    with FakeOpenAIServer(hostile=hostile) as server:
        judge = _judge(server.base_url, answer_mode="generate", max_new_tokens=3)
        (answer,) = judge.answer(PROMPTS[:1])
    assert (answer.text, answer.parsed, answer.flagged) == ("Yes. It", "yes", True)


def test_a_redirect_with_a_json_body_is_not_an_answer() -> None:
    def redirect(number: int, _request: dict[str, Any], good: dict[str, Any]) -> Reply | None:
        return Reply(good, status=302, headers={"Location": "http://elsewhere/v1?key=sk-x"})

    with (
        FakeOpenAIServer(hostile=redirect) as server,
        pytest.raises(ServerError, match=r"redirected .*HTTP 302") as caught,
    ):
        _judge(server.base_url)
    assert "sk-x" not in str(caught.value)


def test_model_list_quirks() -> None:
    with (
        FakeOpenAIServer(models=[]) as server,
        pytest.raises(ServerError, match="lists no model") as caught,
    ):
        _judge(server.base_url)
    assert "--served-model" not in str(caught.value)
    model = {"id": "fake-judge", "max_model_len": True}
    with FakeOpenAIServer(models=[model]) as server:
        judge = _judge(server.base_url)
    assert judge._context_limit is None  # true is not 1 token


def test_a_key_echoed_by_the_server_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)

    def echo(number: int, request: dict[str, Any], good: dict[str, Any]) -> Reply | None:
        message = f"bad request from key {KEY}"
        return Reply({"error": {"message": message}}, status=400 if number else 500)

    with FakeOpenAIServer(hostile=echo) as server, pytest.raises(ServerError) as caught:
        _judge(server.base_url, max_retries=0)
    assert "bad request from key ***" in str(caught.value) and KEY not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/v1?api_key=sk-in-query",
        "http://127.0.0.1:9/v1#sk-in-fragment",
        "http://user:sk-in-password@127.0.0.1:9/v1",
        "ftp://user:sk-in-password@127.0.0.1:9/v1",
    ],
)
def test_a_base_url_holding_a_secret_is_refused_without_showing_it(url: str) -> None:
    with pytest.raises(InputError) as caught:
        _judge(url)
    assert "sk-in" not in str(caught.value)


pipeline = pytest.mark.usefixtures("amber_data_dir")


def _run(out: Path, url: str, *extra: str) -> list[str]:
    return ["run", "--captions", "oracle", "--limit-images", "1", "--out", str(out), "--no-progress", "--llm", "fake/model", "--backend", "openai", "--base-url", url, "--retries", "1", *extra]  # fmt: skip


def _stored(out: Path) -> int:
    with sqlite3.connect(out / ".answers.sqlite") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM answers").fetchone()
    return int(count)


def _answer_lines(out: Path) -> int:
    (folder,) = (out / "oracle").glob("model-*")
    return len((folder / "answers.jsonl").read_text().splitlines())


@pipeline
def test_run_stores_the_answers_received_before_a_malformed_reply(
    tmp_path: Path, run_cli: RunCli
) -> None:
    hostile = after_probe(_set("choices.0.message", "oops"), first=8)
    with FakeOpenAIServer(model="fake/model", hostile=hostile) as server:
        code, _out, err = run_cli(_run(tmp_path, server.base_url, "--concurrency", "1"))
    assert code == 2, err
    assert "choices[0].message is not an object" in err
    assert _answer_lines(tmp_path) == 7 and _stored(tmp_path) == 7


@pipeline
def test_answers_of_a_broken_server_are_not_kept_for_the_rerun(
    tmp_path: Path, run_cli: RunCli
) -> None:
    hostile = after_probe(_set("choices.0.logprobs.content", []))
    with FakeOpenAIServer(model="fake/model", hostile=hostile) as server:
        code, _out, err = run_cli(_run(tmp_path, server.base_url))
    assert code == 2 and "logprobs lists no token" in err
    assert _stored(tmp_path) == 0
    with FakeOpenAIServer(model="fake/model") as healthy:
        code, out, err = run_cli(_run(tmp_path, healthy.base_url))
    assert code == 0, err
    assert "answered by the model now: 17; from stored answers: 0" in out


@pipeline
def test_a_key_echoed_in_an_error_reaches_neither_run_json_nor_stderr(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)

    def echo(number: int, _request: dict[str, Any], _good: dict[str, Any]) -> Reply | None:
        return Reply({"error": {"message": f"quota exceeded for {KEY}"}}, status=400) if number >= 2 else None  # fmt: skip

    with FakeOpenAIServer(model="fake/model", hostile=echo) as server:
        code, out, err = run_cli(_run(tmp_path, server.base_url, "--concurrency", "1"))
    assert code == 2 and "quota exceeded for ***" in err
    (folder,) = (tmp_path / "oracle").glob("model-*")
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "error" and "quota exceeded for ***" in record["error"]
    for text in (out, err, (folder / "run.json").read_text()):
        assert KEY not in text


def test_the_answer_rule_flags_a_nan_or_positive_log_probability() -> None:
    """For every engine (the in-process vLLM too): a NaN "No" is no probability, never a
    P(yes) of 1.0 on "No"."""
    from amber_eval.judge.logprob_rule import TokenStep, score_answer

    for bad in (float("nan"), 0.5):
        step = TokenStep("No", -0.1, (("No", -0.1), ("Yes", bad)))
        answer = score_answer([step])
        assert (answer.parsed, answer.p_yes, answer.margin, answer.flagged) == ("no", None, None, True)  # fmt: skip
    step = TokenStep("No", -0.1, (("No", -0.1), ("Yes", float("-inf"))))
    assert score_answer([step]).p_yes == 0.0  # -inf: probability 0, a readout
