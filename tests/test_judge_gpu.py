"""The same exactness checks on a CUDA GPU (skipped without one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from parts import requires_mark, requires_module

torch = requires_module("torch")
requires_module("transformers")

pytestmark = [
    pytest.mark.gpu,
    requires_mark("gpu", not torch.cuda.is_available(), "needs a CUDA GPU"),
]


def test_prefix_shared_logits_on_gpu_match_unbatched() -> None:
    from llm_fixtures import tiny_judge, tiny_llama, tiny_tokenizer
    from test_judge_exactness import amber_like_prompts, unbatched_logits

    tokenizer = tiny_tokenizer()
    model = tiny_llama(tokenizer, seed=4).to("cuda")
    prompts, groups = amber_like_prompts(seed=5)
    for strategy in ("cache", "packed"):
        judge = tiny_judge(tokenizer, model, strategy=strategy, batch_tokens=700)
        token_ids = [judge.encode(p) for p in prompts]
        reference = unbatched_logits(judge, token_ids)
        got = torch.zeros_like(reference)
        for indices, logits in judge.prompt_logits(token_ids, groups):
            got[indices] = logits
        # GPU kernels differ with batch shape: nearly equal, same decisions.
        assert (got - reference).abs().max().item() < 1e-3
        assert torch.equal(got.argmax(-1), reference.argmax(-1))


def test_nf4_judge_loads_and_answers(tmp_path: Path) -> None:
    requires_module("bitsandbytes", part="gpu")
    from llm_fixtures import tiny_llama, tiny_tokenizer

    from amber_eval.judge import load_judge

    tokenizer = tiny_tokenizer()
    tiny_llama(tokenizer, seed=3, first=["▁Yes", "▁No"]).save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    judge = load_judge(str(tmp_path / "tiny"), load_in_4bit=True)
    assert judge.identity["quantization"] == "nf4"
    answers = judge.answer(["If an image contains a dog. Is there a dog in this image?"] * 3)
    assert all(a.parsed in ("yes", "no") for a in answers)
