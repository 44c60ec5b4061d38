"""The answer store: same key -> no recomputation; any key change -> no reuse."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from amber_eval.errors import OutputError
from amber_eval.judge.base import Answer
from amber_eval.judge.mock import MockJudge
from amber_eval.runs.answer_store import AnswerStore, answer_key, default_store_path

IDENTITY = {"backend": "hf", "model": "m", "revision": "abc", "mode": "score", "dtype": "fp32"}
YES = Answer(text="Yes", parsed="yes", p_yes=0.9, margin=2.5, token="Yes", flagged=False)
NO = Answer(text="No", parsed="no", p_yes=0.1, margin=-2.0, token="No", flagged=False)


def test_round_trip_and_first_answer_wins(tmp_path: Path) -> None:
    with AnswerStore(tmp_path / "a.sqlite") as store:
        assert store.put_many(IDENTITY, [("p1", YES), ("p2", NO)]) == 2
        # a second answer for a stored key is ignored, never replaces the first
        assert store.put_many(IDENTITY, [("p1", NO)]) == 0
        found = store.get_many(IDENTITY, ["p1", "p2", "p3"])
    assert set(found) == {"p1", "p2"}
    assert found["p1"].answer == YES
    assert found["p2"].answer == NO
    with AnswerStore(tmp_path / "a.sqlite") as again:  # persisted across connections
        assert again.count() == 2
        assert again.count(IDENTITY) == 2
        assert again.inserted == 0


@pytest.mark.parametrize(
    "change",
    [
        {"model": "other"},
        {"revision": "def"},
        {"mode": "generate"},
        {"dtype": "bf16"},
        {"max_new_tokens": 5},
        {"chat_template": False},
        {"system_prompt": "Be brief."},
    ],
)
def test_any_identity_change_never_reuses(tmp_path: Path, change: dict[str, object]) -> None:
    other = {**IDENTITY, **change}
    assert answer_key(other, "p1") != answer_key(IDENTITY, "p1")
    with AnswerStore(tmp_path / "a.sqlite") as store:
        store.put_many(IDENTITY, [("p1", YES)])
        assert store.get_many(other, ["p1"]) == {}
        assert store.get_many(IDENTITY, ["p1 "]) == {}  # one more character: another prompt


def test_identity_key_order_does_not_matter(tmp_path: Path) -> None:
    reordered = dict(reversed(list(IDENTITY.items())))
    assert answer_key(reordered, "p") == answer_key(IDENTITY, "p")


def test_template_change_changes_rendered_prompt(tmp_path: Path) -> None:
    plain = MockJudge("yes", chat_template=False)
    chat = MockJudge("yes", chat_template=True)
    with AnswerStore(tmp_path / "a.sqlite") as store:
        store.put_many(plain.identity, [(plain.render("Is there a dog?"), YES)])
        assert store.get_many(chat.identity, [chat.render("Is there a dog?")]) == {}
        assert len(store.get_many(plain.identity, [plain.render("Is there a dog?")])) == 1


def test_wal_mode(tmp_path: Path) -> None:
    AnswerStore(tmp_path / "a.sqlite").close()
    mode = sqlite3.connect(tmp_path / "a.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def _writer(path: str, start: int) -> None:
    with AnswerStore(path) as store:
        for i in range(start, start + 100, 10):
            store.put_many(IDENTITY, [(f"p{j}", YES) for j in range(i, i + 10)])


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "a.sqlite")
    AnswerStore(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, s)) for s in (0, 100)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with AnswerStore(path) as store:
        assert store.count() == 200


def test_unopenable_store_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="--store"):
        AnswerStore(blocker / "a.sqlite")


def test_default_location_is_in_the_results_root(tmp_path: Path) -> None:
    assert default_store_path() == Path("results/.answers.sqlite")
    assert default_store_path(tmp_path) == tmp_path / ".answers.sqlite"


def test_importing_runs_loads_no_heavy_package() -> None:
    import subprocess
    import sys

    code = (
        "import sys, amber_eval.runs, amber_eval.cli.run\n"
        "heavy = [m for m in ('torch', 'transformers', 'spacy', 'nltk', 'matplotlib') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
