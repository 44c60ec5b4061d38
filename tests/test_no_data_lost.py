"""Nothing the user did not write is destroyed, and every failure of input or environment is
an ``error:`` line with exit code 2 (a bug: one line and exit code 1, the traceback with -vv).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from parts import requires, requires_module

RunCli = Callable[[list[str]], tuple[int, str, str]]

RESPONSES = [{"id": 1005, "response": "Yes"}, {"id": 1006, "response": "No"}]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _responses(path: Path, *, pretty: bool = False) -> Path:
    path.write_text(json.dumps(RESPONSES, indent=2 if pretty else None), encoding="utf-8")
    return path


def _fails_cleanly(result: tuple[int, str, str], *names: str) -> str:
    code, out, err = result
    assert "Traceback" not in out + err
    assert code == 2, (out, err)
    assert err.startswith("error: ") or "\nerror: " in err, err
    for name in names:
        assert name in err, err
    return err


@pytest.mark.usefixtures("amber_data_dir")
@pytest.mark.parametrize("pretty", [False, True])
def test_segment_never_touches_a_file_that_is_not_its_dump(
    tmp_path: Path, run_cli: RunCli, pretty: bool
) -> None:
    target = _responses(tmp_path / "v.json", pretty=pretty)
    before = _sha(target)
    result = run_cli(
        ["segment", "--captioner", "oracle", "--out", str(target), "--limit-images", "3",
         "--no-progress"]
    )  # fmt: skip
    err = _fails_cleanly(result, "v.json", "not a caption dump")
    assert "left as it is" in err
    assert _sha(target) == before


@pytest.mark.usefixtures("amber_data_dir")
def test_segment_leaves_another_captioners_dump_as_it_is(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "captions.jsonl"
    args = ["segment", "--captioner", "oracle", "--out", str(out), "--no-progress"]
    assert run_cli([*args, "--limit-images", "2"])[0] == 0
    with out.open("ab") as handle:  # a torn last line, as a kill mid-write leaves it
        handle.write(b'{"image": "AMBER_3.jpg", "regi')
    before = _sha(out)
    header = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    header["captioner"]["settings"] = {"other": True}
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps(header) + "\n" + "".join(lines[1:]), encoding="utf-8")
    other_before = _sha(other)
    _fails_cleanly(
        run_cli([*args[:4], str(other), "--no-progress", "--limit-images", "3"]), "cannot resume"
    )
    assert _sha(other) == other_before  # the torn line of someone else's dump is theirs
    assert run_cli([*args, "--limit-images", "3"])[0] == 0  # our own dump: repaired, resumed
    assert _sha(out) != before


def _link_kinds(tmp_path: Path, original: Path) -> dict[str, Path]:
    symlink = tmp_path / "link.json"
    symlink.symlink_to(original)
    hard = tmp_path / "hard.json"
    os.link(original, hard)
    return {"same": original, "symlink": symlink, "hardlink": hard}


@pytest.mark.usefixtures("amber_data_dir")
@pytest.mark.parametrize("option", ["--json", "--items"])
@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_score_refuses_to_write_over_its_responses(
    tmp_path: Path, run_cli: RunCli, option: str, link: str
) -> None:
    responses = _responses(tmp_path / "v.json")
    before = _sha(responses)
    out = _link_kinds(tmp_path, responses)[link]
    result = run_cli(["score", str(responses), "--type", "d", "--allow-partial", option, str(out)])
    _fails_cleanly(result, option, "RESPONSES", "destroy")
    assert _sha(responses) == before


@pytest.mark.usefixtures("amber_data_dir")
def test_score_refuses_the_same_file_for_two_outputs(tmp_path: Path, run_cli: RunCli) -> None:
    responses = _responses(tmp_path / "v.json")
    out = tmp_path / "out.json"
    result = run_cli(
        ["score", str(responses), "--type", "d", "--allow-partial", "--json", str(out),
         "--items", str(out)]
    )  # fmt: skip
    _fails_cleanly(result, "another output")
    assert not out.exists()


@pytest.mark.usefixtures("amber_data_dir")
def test_prompts_ask_and_import_refuse_their_input_as_output(
    tmp_path: Path, run_cli: RunCli
) -> None:
    dump = tmp_path / "x.jsonl"
    assert run_cli(["segment", "--captioner", "oracle", "--out", str(dump), "--limit-images", "1",
                    "--no-progress"])[0] == 0  # fmt: skip
    before = _sha(dump)
    _fails_cleanly(
        run_cli(["prompts", "--captions", str(dump), "--limit-images", "1", "--out", str(dump)]),
        "--captions",
    )
    assert _sha(dump) == before
    prompts = tmp_path / "p.jsonl"
    assert run_cli(["prompts", "--captions", str(dump), "--limit-images", "1", "--out",
                    str(prompts)])[0] == 0  # fmt: skip
    prompts_before = _sha(prompts)
    _fails_cleanly(
        run_cli(["ask", "--llm", "mock-no", "--prompts", str(prompts), "--out", str(prompts)]),
        "--prompts",
    )
    assert _sha(prompts) == prompts_before
    source = tmp_path / "regions.jsonl"
    source.write_text('{"image": "AMBER_1.jpg", "regions": [{"caption": "a dog"}]}\n', "utf-8")
    source_before = _sha(source)
    _fails_cleanly(
        run_cli(["captions", "import", str(source), "--from", "jsonl", "--out", str(source)]),
        "SOURCE",
    )
    assert _sha(source) == source_before


@pytest.mark.usefixtures("amber_data_dir")
def test_report_refuses_to_write_over_a_run_file(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "results"
    assert run_cli(["run", "--captions", "oracle", "--llm", "mock-no", "--limit-images", "1",
                    "--out", str(out), "--no-progress"])[0] == 0  # fmt: skip
    (metrics,) = out.glob("*/*/metrics.json")
    before = _sha(metrics)
    _fails_cleanly(run_cli(["report", str(metrics.parent), "--out", str(metrics)]), "--out")
    assert _sha(metrics) == before


@pytest.fixture
def unwritable(tmp_path: Path) -> Path:
    """A folder no file can be created in (for root too: a sysfs folder)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    candidates = [folder, Path("/sys/kernel")]
    for candidate in candidates:
        try:
            (candidate / ".probe").touch()
        except OSError:
            return candidate
        (candidate / ".probe").unlink()
    return requires(
        "unwritable-folder", "no unwritable folder on this machine (running as root without sysfs)"
    )


@pytest.mark.usefixtures("amber_data_dir", "nltk_data_dir")
@pytest.mark.parametrize(
    "command",
    ["score-json", "score-items", "prompts", "import", "ask", "report", "filter-pairs", "segment"],
)
def test_an_unwritable_output_is_an_error_naming_it(
    tmp_path: Path, run_cli: RunCli, unwritable: Path, command: str
) -> None:
    target = unwritable / "out.jsonl"
    responses = _responses(tmp_path / "v.json")
    work = tmp_path / "work"
    work.mkdir()
    if command in ("prompts", "ask", "report"):
        run_cli(["prompts", "--captions", "oracle", "--limit-images", "1", "--out",
                 str(work / "p.jsonl")])  # fmt: skip
    if command == "report":
        run_cli(["run", "--captions", "oracle", "--llm", "mock-no", "--limit-images", "1",
                 "--out", str(work / "results"), "--no-progress"])  # fmt: skip
    if command == "filter-pairs":
        requires_module("open_clip")
        import numpy as np

        from amber_eval.benchmarks.synthetic_pairs import write_tiny_clip

        (work / "features").mkdir()
        np.savez(work / "features" / "x.npz", features=np.ones((2, 64), dtype=np.float32))
        (work / "pairs.jsonl").write_text('{"id": "1", "image": "x.jpg", "caption": "a dog"}\n')
        clip = str(write_tiny_clip(work / "clip", seed=1))
    source = work / "regions.jsonl"
    source.write_text('{"image": "AMBER_1.jpg", "regions": [{"caption": "a dog"}]}\n', "utf-8")
    args = {
        "score-json": ["score", str(responses), "--type", "d", "--allow-partial", "--json", str(target)],
        "score-items": ["score", str(responses), "--type", "d", "--allow-partial", "--items", str(target)],
        "prompts": ["prompts", "--captions", "oracle", "--limit-images", "1", "--out", str(target)],
        "import": ["captions", "import", str(source), "--from", "jsonl", "--out", str(target)],
        "ask": ["ask", "--llm", "mock-no", "--prompts", str(work / "p.jsonl"), "--out", str(target)],
        "report": ["report", *map(str, (work / "results").glob("*/*")), "--out", str(target)]
        if command == "report" else [],
        "filter-pairs": ["filter-pairs", "--pairs", str(work / "pairs.jsonl"), "--ratio", "0.5",
                         "--out", str(unwritable / "filtered"), "--features", str(work / "features"),
                         "--clip-model", clip, "--no-progress"] if command == "filter-pairs" else [],
        "segment": ["segment", "--captioner", "oracle", "--out", str(target), "--limit-images", "1",
                    "--no-progress"],
    }[command]  # fmt: skip
    _fails_cleanly(run_cli(args), str(unwritable))


@pytest.mark.usefixtures("amber_data_dir")
def test_full_disk_during_a_run_is_recorded_and_keeps_the_earlier_run(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amber_eval.runs.answer_store import AnswerStore

    out = tmp_path / "results"
    base = ["run", "--captions", "oracle", "--llm", "mock-no", "--out", str(out), "--no-progress"]
    assert run_cli([*base, "--limit-images", "1"])[0] == 0
    (earlier,) = out.glob("*/*/run.json")
    kept = {p: _sha(p) for p in earlier.parent.iterdir() if p.is_file()}

    def full(*args: object, **kwargs: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(AnswerStore, "_put_many", full)
    err = _fails_cleanly(run_cli([*base, "--limit-images", "2"]), ".answers.sqlite", "disk is full")
    assert "free some disk space" in err
    assert {p: _sha(p) for p in kept} == kept
    (new,) = [p for p in out.glob("*/*/run.json") if p != earlier]
    record = json.loads(new.read_text(encoding="utf-8"))
    assert record["status"] == "error" and "disk is full" in record["error"]
    assert not (new.parent / "metrics.json").exists()


@pytest.mark.usefixtures("amber_data_dir")
def test_a_failed_rerun_keeps_the_earlier_scores_and_they_are_not_reported_as_its_own(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "results"
    base = ["run", "--captions", "oracle", "--llm", "mock-no", "--out", str(out), "--no-progress",
            "--limit-images", "1"]  # fmt: skip
    assert run_cli(base)[0] == 0
    (run_file,) = out.glob("*/*/run.json")
    folder = run_file.parent
    metrics = _sha(folder / "metrics.json")
    assert run_cli(["report", str(out), "--layout", "amber"])[0] == 0

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "metrics.json"))

    # the same config again (its answers are all there): the disk fills while scoring
    monkeypatch.setattr("amber_eval.runs.scores.run_metrics", full)
    _fails_cleanly(run_cli(base), "metrics.json", "no space left")
    assert json.loads(run_file.read_text(encoding="utf-8"))["status"] == "error"
    assert _sha(folder / "metrics.json") == metrics  # the earlier run's scores are kept
    err = _fails_cleanly(run_cli(["report", str(folder)]), str(run_file), "ended in error")
    assert "Run the same command again" in err
    # a results root lists finished runs only: here there is none left
    _fails_cleanly(run_cli(["report", str(out)]), str(out))


@pytest.mark.usefixtures("amber_data_dir")
def test_a_corrupt_answer_store_says_how_to_recover(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "results"
    out.mkdir()
    store = out / ".answers.sqlite"
    store.write_bytes(b"this is not a database" * 100)
    before = _sha(store)
    args = ["run", "--captions", "oracle", "--llm", "mock-no", "--out", str(out), "--no-progress",
            "--limit-images", "1"]  # fmt: skip
    err = _fails_cleanly(run_cli(args), str(store), "is corrupt", "Move it aside")
    assert "Pick a writable file" not in err
    assert _sha(store) == before


@pytest.mark.usefixtures("amber_data_dir")
def test_environment_mistakes_are_errors(tmp_path: Path, run_cli: RunCli) -> None:
    _fails_cleanly(
        run_cli(["data", "fetch", "--base-url", "http://[::1", "--data-dir", str(tmp_path / "d")]),
        "http://[::1",
    )
    empty = tmp_path / "no-model"
    empty.mkdir()
    run = ["run", "--captions", "oracle", "--limit-images", "1", "--out", str(tmp_path / "r"),
           "--no-progress"]  # fmt: skip
    _fails_cleanly(run_cli([*run, "--llm", str(empty)]), str(empty), "holds no model")
    _fails_cleanly(
        run_cli([*run[:1], "--captions", str(tmp_path), *run[3:], "--llm", "mock-no"]),
        "is a folder",
    )


def test_a_bug_is_one_line_and_exit_1_with_the_traceback_under_vv(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import amber_eval.scoring.responses as responses_module

    def broken(path: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(responses_module, "read_responses", broken)
    responses = _responses(tmp_path / "v.json")
    code, _, err = run_cli(["score", str(responses)])
    assert code == 1 and "Traceback" not in err
    assert err.strip().splitlines() == [
        "error: unexpected RuntimeError: boom (a bug in amber-eval; run with -vv for the traceback)"
    ]
    code, _, err = run_cli(["-vv", "score", str(responses)])
    assert code == 1 and "Traceback" in err and "RuntimeError: boom" in err


def test_a_model_folder_is_known_by_its_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requires_module("transformers")
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from llm_fixtures import tiny_llama, tiny_tokenizer

    import amber_eval.file_digests as digests
    from amber_eval.judge.loading import _folder_fingerprint

    monkeypatch.setenv("AMBER_EVAL_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "model"
    tokenizer = tiny_tokenizer()
    tiny_llama(tokenizer, seed=0).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    first = _folder_fingerprint(folder)
    weights = sorted(folder.glob("*.safetensors"))
    sizes = [w.stat().st_size for w in weights]
    # A fine-tuned checkpoint of the same shape written over the old one: same names, sizes.
    tiny_llama(tokenizer, seed=1).save_pretrained(folder)
    assert [w.stat().st_size for w in weights] == sizes
    second = _folder_fingerprint(folder)
    assert second != first
    # Hashed once: a later lookup (even in a new process: the memo file) reads no weights.
    calls: list[Path] = []
    real = digests.sha256_file
    monkeypatch.setattr(digests, "sha256_file", lambda p: calls.append(Path(p)) or real(p))
    monkeypatch.setattr(digests, "_memo", {})
    assert _folder_fingerprint(folder) == second and calls == []
