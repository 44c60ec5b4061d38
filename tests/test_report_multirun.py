"""Tables of several runs: unique labels, n, bold only where it is earned, one alarm line."""

from __future__ import annotations

import json
from pathlib import Path

from amber_eval.benchmarks.synthetic_runs import write_synthetic_run
from amber_eval.reporting import build_table, load_run, render_table
from amber_eval.reporting.run_data import apply_names


def test_labels_are_unique_and_names_still_win(tmp_path: Path) -> None:
    full = write_synthetic_run(tmp_path / "m" / "mock-a", model="m", images=6, seed=1)
    small = write_synthetic_run(tmp_path / "m" / "mock-b", model="m", images=2, seed=2)
    twin = write_synthetic_run(tmp_path / "m" / "mock-c", model="m", images=2, seed=3)
    runs = [load_run(folder) for folder in (full, small, twin)]
    # 14 questions per synthetic image: 6 images 84 questions, 2 images 28
    assert apply_names(runs, {}) == [
        "m + mock (6 images, 84 questions)",
        "m + mock (mock-b)",
        "m + mock (mock-c)",
    ]
    assert apply_names(runs[:2], {}) == [
        "m + mock (6 images, 84 questions)",
        "m + mock (2 images, 28 questions)",
    ]
    assert apply_names(runs[:2], {str(small): "tiny"}) == [
        "m + mock (6 images, 84 questions)",
        "tiny",
    ]
    other = load_run(write_synthetic_run(tmp_path / "n" / "mock-d", model="n", images=2))
    assert apply_names([runs[0], other], {}) == ["m + mock", "n + mock"]  # nothing to add


def test_bold_only_among_unalarmed_runs_on_the_same_questions(tmp_path: Path) -> None:
    good = write_synthetic_run(
        tmp_path / "a" / "mock-1", model="a", images=6, seed=1, accuracy=0.95
    )
    better_but_alarmed = write_synthetic_run(
        tmp_path / "b" / "mock-2", model="b", images=6, seed=2, accuracy=0.99, alarm=True
    )
    tiny = write_synthetic_run(
        tmp_path / "c" / "mock-3", model="c", images=2, seed=3, accuracy=0.99
    )
    plain = write_synthetic_run(
        tmp_path / "d" / "mock-4", model="d", images=6, seed=4, accuracy=0.9
    )
    runs = [load_run(f) for f in (good, better_but_alarmed, tiny, plain)]
    table = build_table(runs, layout="amber", references=["amber"])
    labels = [row.label for row in table.rows]
    competing = {labels[i] for i, row in enumerate(table.rows) if table.competes(row)}
    assert competing == {"a + mock", "d + mock"}
    best = table.best()
    accuracy = {labels[i] for i in best["overall.Accuracy"]}
    a, d = (runs[0].values("strict"), runs[3].values("strict"))
    expected = (
        "a + mock"
        if round(a["overall.Accuracy"], 1) > round(d["overall.Accuracy"], 1)
        else "d + mock"
    )
    assert accuracy == {expected}
    # no published row is ever bold, even where it beats every run (GPT-4V's AMBER 91.4)
    assert all(table.rows[i].source == "run" for rows in best.values() for i in rows)
    markdown = render_table(table, "markdown")
    assert "The runs cover different questions (n: a + mock: 6 images, 84 questions; " in markdown
    assert "c + mock: 2 images, 28 questions" in markdown
    assert "not: b + mock, c + mock." in markdown
    # the alarm: one line naming the main reason and how many more
    alarm = [line for line in markdown.splitlines() if line.startswith("‡")]
    # b answered Yes to everything: its accuracy is the share of Yes truths, always-No's the rest
    accuracy_b = runs[1].values("strict")["overall.Accuracy"]
    more = len(runs[1].judge_warnings()) - 1
    assert alarm == [
        f"‡ b + mock: the judge looks useless (accuracy {accuracy_b:.1f} not above always-No "
        f"{100 - accuracy_b:.1f}, and {more} more warnings); its figures are the judge's bias, "
        "not the model's (metrics.json: warnings)."
    ]
    data = json.loads(render_table(table, "json"))
    assert [(r["images"], r["questions"]) for r in data["rows"] if r["source"] == "run"] == [
        (6, 84),
        (6, 84),
        (2, 28),
        (6, 84),
    ]


def test_one_run_with_references_has_nothing_bold(tmp_path: Path) -> None:
    run = load_run(write_synthetic_run(tmp_path / "a" / "mock-1", model="a", images=3))
    table = build_table([run], layout="amber", references=["amber"])
    assert table.best() == {}
    markdown = render_table(table, "markdown")
    assert "**" not in markdown and "n: 3 images, 42 questions per run." in markdown
