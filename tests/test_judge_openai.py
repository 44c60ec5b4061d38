"""The ``openai`` backend against loopback servers: answers, identity, retries and errors.

The engine here is :class:`http_doubles.FakeOpenAIServer` (real HTTP on 127.0.0.1, answers by
a rule of the prompt); faults come from :class:`http_doubles.FaultProxy`. The same proxy sits
in front of a real vLLM server in ``test_judge_vllm.py``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from http_doubles import FakeOpenAIServer, FaultProxy, fake_behind_proxy

from amber_eval.errors import AmberEvalError
from amber_eval.judge import load_judge
from amber_eval.judge.openai_client import ContextLengthError, ServerError

RunCli = Callable[[list[str]], tuple[int, str, str]]
KEY = "sk-test-5ecret-value"
PROMPTS = [f"If an image contains a {w}. Is there a dog in this image?" for w in ("dog", "cat")] * 6
PROMPTS += [f"Is there a {w} here?" for w in ("cat", "tree", "dog", "car")]


def _judge(base_url: str, **options: object):  # type: ignore[no-untyped-def]
    return load_judge("fake-judge", backend="openai", base_url=base_url, **options)


def _expected(server: FakeOpenAIServer) -> list[str]:
    return [server.answer_for(p).lower() for p in PROMPTS]


def test_answers_follow_the_server_and_identity_names_no_host_port_or_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AMBER_TEST_KEY", KEY)
    with FakeOpenAIServer(api_key=KEY) as one, FakeOpenAIServer(api_key=KEY) as two:
        first = _judge(one.base_url, api_key_env="AMBER_TEST_KEY", concurrency=3)
        second = _judge(two.base_url, api_key_env="AMBER_TEST_KEY")
        answers = first.answer(PROMPTS)
        assert [a.parsed for a in answers] == _expected(one)
        assert answers[0].p_yes == pytest.approx(0.7 / 0.9)
        assert first.identity == second.identity  # same model elsewhere: answers are reused
        text = json.dumps(first.identity)
        port = one.base_url.rsplit(":", 1)[1].split("/")[0]
        assert KEY not in text and "127.0.0.1" not in text and port not in text
        assert first.identity["served_model"]["id"] == "fake-judge"
        assert first.identity["system_fingerprint"] == "fake-fp-1"
        assert first.identity["engine_version"] == "fake-1.0"
        assert one.headers[-1]["Authorization"] == f"Bearer {KEY}"
        body = one.requests[-1]
        assert (body["max_tokens"], body["temperature"], body["top_logprobs"]) == (1, 0, 20)
    with FakeOpenAIServer(fingerprint="fake-fp-2") as other:
        assert _judge(other.base_url).identity != first.identity  # another build: no reuse


def test_completions_api_sends_exactly_the_hf_rendered_text(tiny_model_dir: Path) -> None:
    hf = load_judge(str(tiny_model_dir))
    with FakeOpenAIServer() as server:
        judge = load_judge(
            str(tiny_model_dir), backend="openai", api="completions", base_url=server.base_url
        )
        judge.answer(PROMPTS[:3])
        sent = [r["prompt"] for r in server.requests[-3:]]
        assert sorted(sent) == sorted(hf.render(p) for p in PROMPTS[:3])  # concurrent: any order
        assert all(r["add_special_tokens"] is False for r in server.requests[-3:])  # <s> given
        assert judge.identity["chat_template_sha256"] == hf.identity["chat_template_sha256"]
        assert judge.identity["api"] == "completions"
        assert judge.prompt_tokens(PROMPTS[0]) == len(hf.encode(PROMPTS[0]))


def test_injected_429_500_and_dropped_connections_lose_no_answer() -> None:
    plan = ["ok", "429", "ok", "500", "ok", "drop", "ok", "drop-after"]
    with FakeOpenAIServer() as direct:
        want = _judge(direct.base_url).answer(PROMPTS)
    with fake_behind_proxy(plan) as (_server, proxy):
        # concurrent requests share the plan, so one may meet several faults in a row
        judge = _judge(proxy.base_url, concurrency=4, max_retries=12)
        got = judge.answer(PROMPTS)
        stats = judge.run_stats()
    assert got == want
    assert sum(proxy.injected.values()) > 0
    assert stats["retries"] == sum(proxy.injected.values())
    assert stats["retries_by_reason"]["429"] == proxy.injected["429"]
    assert stats["retries_by_reason"]["500"] == proxy.injected["500"]
    assert (
        stats["retries_by_reason"]["connection"]
        == proxy.injected["drop"] + proxy.injected["drop-after"]
    )
    assert stats["errors"] == 0 and stats["prompts"] == len(PROMPTS)


def test_retry_after_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer() as server:
        upstream = server.base_url.removesuffix("/v1")
        with FaultProxy(upstream, ["ok", "429"], retry_after="1.5", after="ok") as proxy:
            judge = _judge(proxy.base_url)
            judge.answer(PROMPTS[:1])
            stats = judge.run_stats()
    assert stats["retries_by_reason"] == {"429": 1}
    assert 1.5 <= stats["retry_wait_seconds"] <= 1.5 + 0.16


def test_a_server_that_keeps_failing_stops_with_what_to_do() -> None:
    with fake_behind_proxy(["ok"], after="500") as (_server, proxy):
        judge = _judge(proxy.base_url, max_retries=1)
        with pytest.raises(ServerError, match=r"kept answering 500 .* after 2 attempts"):
            judge.answer(PROMPTS[:2])
        assert judge.run_stats()["errors"] >= 1


def test_unreachable_server_wrong_key_unknown_model_and_long_prompt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with FakeOpenAIServer() as gone:
        url = gone.base_url
    with pytest.raises(ServerError, match=r"cannot reach the server at .* start it"):
        _judge(url, max_retries=1)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(api_key=KEY) as locked:
        with pytest.raises(ServerError, match="wants an API key: set OPENAI_API_KEY"):
            _judge(locked.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-123")
        with pytest.raises(ServerError, match="refused the API key") as caught:
            _judge(locked.base_url)
        assert "sk-wrong-key-123" not in str(caught.value)
    monkeypatch.delenv("OPENAI_API_KEY")
    with (
        FakeOpenAIServer() as server,
        pytest.raises(ServerError, match="does not serve 'nope'; it serves: fake-judge"),
    ):
        _judge(server.base_url, served_model="nope")
    with FakeOpenAIServer(max_prompt_chars=60) as short:
        judge = _judge(short.base_url)
        with pytest.raises(ContextLengthError, match="longer than the served model's context"):
            judge.answer(["a very long prompt " * 10])


def test_score_mode_without_logprobs_says_to_use_generate_mode() -> None:
    with FakeOpenAIServer(logprobs=False) as server:
        with pytest.raises(AmberEvalError, match=r"no log-probabilities.*--mode generate"):
            _judge(server.base_url)
        judge = _judge(server.base_url, answer_mode="generate")
        answers = judge.answer(PROMPTS[:4])
        assert [a.parsed for a in answers] == _expected(server)[:4]
        assert answers[0].text == "Yes." and answers[0].p_yes is None
        assert server.requests[-1]["max_tokens"] == 5


def test_whitespace_first_asks_again_and_decides_on_the_next_token() -> None:
    with FakeOpenAIServer(whitespace_first=True) as server:
        judge = _judge(server.base_url)
        answers = judge.answer(PROMPTS[:4])
        assert [a.parsed for a in answers] == _expected(server)[:4]
        assert judge.stats.whitespace_continuations == 4
        assert [r["max_tokens"] for r in server.requests[-4:]] == [5] * 4


def test_options_of_another_backend_are_refused(run_cli: RunCli, tmp_path: Path) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(json.dumps({"id": 1, "image": "AMBER_1.jpg", "dimension": "existence", "truth": "no", "prompt": "Is there a dog?"}) + "\n")  # fmt: skip
    args = ["ask", "--prompts", str(prompts), "--out", str(tmp_path / "a.jsonl")]
    code, _out, err = run_cli([*args, "--llm", "mock-no", "--tensor-parallel-size", "2"])
    assert code == 2 and "--tensor-parallel-size: only for --backend vllm" in err
    code, _out, err = run_cli([*args, "--llm", "mock-no", "--backend", "vllm"])
    assert code == 2 and "test double" in err
    code, _out, err = run_cli([*args, "--llm", "x/y", "--backend", "openai"])
    assert code == 2 and "--base-url" in err
    if importlib.util.find_spec("vllm") is None:
        code, _out, err = run_cli([*args, "--llm", "x/y", "--backend", "vllm"])
        assert code == 2 and "make vllm-env" in err


pipeline = pytest.mark.usefixtures("amber_data_dir")


def _run(out: Path, url: str, *extra: str) -> list[str]:
    return ["run", "--captions", "oracle", "--limit-images", "3", "--out", str(out), "--no-progress", "--llm", "fake-judge", "--backend", "openai", "--base-url", url, "--chunk-questions", "8", *extra]  # fmt: skip


@pipeline
def test_failed_run_keeps_its_answers_and_the_rerun_elsewhere_asks_only_the_rest(
    tmp_path: Path, run_cli: RunCli
) -> None:
    with FakeOpenAIServer(yes_word="there") as whole:
        code, clean, err = run_cli(_run(tmp_path / "clean", whole.base_url))
        assert code == 0, err
    with fake_behind_proxy(["ok"] * 20, after="500", yes_word="there") as (server, proxy):
        code, _out, err = run_cli(_run(tmp_path / "r", proxy.base_url, "--retries", "0"))
        assert code == 2 and "kept answering 500" in err
        assert err.index("openai backend: sending 52 prompts") < err.index("error:")
        (folder,) = (tmp_path / "r" / "oracle").glob("fake-judge-*")
        record = json.loads((folder / "run.json").read_text())
        assert record["status"] == "error" and record["judge_requests"]["errors"] >= 1
        kept = len((folder / "answers.jsonl").read_text().splitlines())
        assert kept >= 8  # the chunks answered before the failure (and the failed chunk's part)
        code, out, err = run_cli(_run(tmp_path / "r", server.base_url))  # no proxy: other port
        assert code == 0, err
    assert f"answered by the model now: {52 - kept}; from stored answers: {kept}" in out
    assert "engine requests:" in out
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "success" and record["judge_requests"]["retries"] == 0
    assert KEY not in (folder / "run.json").read_text()
    clean_folder = next((tmp_path / "clean" / "oracle").glob("fake-judge-*"))
    assert clean_folder.name == folder.name  # same identity: same run folder hash
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics == json.loads((clean_folder / "metrics.json").read_text())
    assert clean.split("\n\n", 1)[1] == out.split("\n\n", 1)[1]
