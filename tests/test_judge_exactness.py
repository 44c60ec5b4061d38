"""The score mode decides what greedy generate() would, and batching changes no logit."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from parts import requires_module

torch = requires_module("torch")
requires_module("transformers")

from llm_fixtures import WORDS, tiny_judge, tiny_llama, tiny_tokenizer  # noqa: E402

SNAPSHOTS = Path(__file__).parent / "snapshots"

OBJECTS = ["dog", "cat", "car", "tree", "person", "cup", "bottle", "sky", "grass", "table"]


def amber_like_prompts(seed: int = 0) -> tuple[list[str], list[str]]:
    """Prompts of three images (25, 1 and 7 questions) with captions of different lengths."""
    rng = random.Random(seed)
    prompts: list[str] = []
    groups: list[str] = []
    for image, count, caption_count in (("a.jpg", 25, 6), ("b.jpg", 1, 2), ("c.jpg", 7, 1)):
        caption = ", ".join(" ".join(rng.sample(WORDS, 3)) for _ in range(caption_count))
        for _ in range(count):
            question = rng.choice(
                [
                    f"Is there a {rng.choice(OBJECTS)} in this image?",
                    f"Is the {rng.choice(OBJECTS)} {rng.choice(['red', 'wet', 'small'])}?",
                    f"Are there {rng.choice(['two', 'three'])} {rng.choice(OBJECTS)} in this image?",
                    f"Is the {rng.choice(OBJECTS)} on the {rng.choice(OBJECTS)}?",
                ]
            )
            prompts.append(f"If an image contains {caption}. {question} Please answer yes or no.")
            groups.append(image)
    return prompts, groups


# (forced first tokens, forced tokens after a given token): one entry per branch.
BRANCHES = {
    "random": {},
    "yes-first": {"first": ["▁Yes"]},
    "no-first": {"first": ["▁No"]},
    "yes-or-no-first": {"first": ["▁Yes", "▁No"]},
    "space-then-yes-or-no": {"first": ["▁"], "after": {"▁": ["Yes", "No", "▁yes"]}},
    "newline-then-yes-or-no": {"first": ["\n"], "after": {"\n": ["No", "▁Yes"]}},
    "space-then-word": {"first": ["▁"], "after": {"▁": ["▁dog"]}},
    "word-first": {"first": ["▁dog", "▁cat"]},
}


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    return tiny_tokenizer()


def first_non_space(judge, token_ids):  # type: ignore[no-untyped-def]
    new, _ = judge.generate_ids(token_ids)
    for token in new:
        if judge.vocab.kind(token) != "space":
            return token
    return None


@pytest.mark.parametrize("branch", sorted(BRANCHES))
def test_score_decision_equals_greedy_generate(tokenizer, branch: str) -> None:  # type: ignore[no-untyped-def]
    model = tiny_llama(tokenizer, seed=3, **BRANCHES[branch])  # type: ignore[arg-type]
    scorer = tiny_judge(tokenizer, model)
    generator = tiny_judge(tokenizer, model, mode="generate")
    prompts, groups = amber_like_prompts(seed=2)
    answers = scorer.answer(prompts, groups=groups)
    expected_tokens = [first_non_space(generator, generator.encode(prompt)) for prompt in prompts]
    decided = [tokenizer.convert_tokens_to_ids(a.token) if a.token else None for a in answers]
    assert decided == expected_tokens
    # The same through the public generate mode. (A random model may glue more letters to
    # its Yes/No token, "Nog": the token agrees, the parse of the text then need not.)
    generated = generator.answer(prompts)
    assert [a.token for a in generated] == [a.token for a in answers]
    for scored, greedy in zip(answers, generated, strict=True):
        assert greedy.parsed in (scored.parsed, "unknown")
        assert greedy.flagged or greedy.parsed == scored.parsed


def test_branches_are_exercised(tokenizer) -> None:  # type: ignore[no-untyped-def]
    """Each forced branch really produces what it is named for."""
    prompts, groups = amber_like_prompts(seed=2)

    def run(branch: str):  # type: ignore[no-untyped-def]
        judge = tiny_judge(tokenizer, tiny_llama(tokenizer, seed=3, **BRANCHES[branch]))  # type: ignore[arg-type]
        return judge, judge.answer(prompts, groups=groups)

    _, answers = run("yes-first")
    assert {a.token for a in answers} == {"▁Yes"} and not any(a.flagged for a in answers)
    _, answers = run("no-first")
    assert {a.parsed for a in answers} == {"no"}
    _, answers = run("yes-or-no-first")
    assert {a.parsed for a in answers} == {"yes", "no"}
    judge, answers = run("space-then-yes-or-no")
    assert {a.parsed for a in answers} <= {"yes", "no"} and len({a.token for a in answers}) >= 2
    assert "fallback_tokens" not in judge.stats.extra  # decided by the probe token
    judge, answers = run("newline-then-yes-or-no")
    assert {a.parsed for a in answers} <= {"yes", "no"}
    assert judge.stats.extra["fallback_tokens"] > 0  # the newline is not the probe
    _, answers = run("word-first")
    assert all(a.flagged and a.parsed == "unknown" for a in answers)
    assert {a.token for a in answers} <= {"▁dog", "▁cat"}


def test_p_yes_and_margin_are_consistent(tokenizer) -> None:  # type: ignore[no-untyped-def]
    judge = tiny_judge(tokenizer, tiny_llama(tokenizer, seed=3, first=["▁Yes", "▁No"]))
    prompts, groups = amber_like_prompts(seed=3)
    for answer in judge.answer(prompts, groups=groups):
        assert answer.p_yes is not None and answer.margin is not None
        assert (answer.parsed == "yes") == (answer.margin > 0)
        assert (answer.p_yes > 0.5) == (answer.margin > 0)


def unbatched_logits(judge, token_ids):  # type: ignore[no-untyped-def]
    """One plain forward per prompt (with the probe), logits at the last two positions."""
    rows = []
    device = next(judge.model.parameters()).device
    with torch.inference_mode():
        for ids in token_ids:
            sequence = torch.tensor([[*ids, judge.vocab.probe_id]], device=device)
            rows.append(judge.model(input_ids=sequence).logits[0, -2:].float())
    return torch.stack(rows)


@pytest.mark.parametrize("strategy", ["packed", "cache"])
def test_batched_prefix_shared_logits_equal_unbatched(tokenizer, strategy: str) -> None:  # type: ignore[no-untyped-def]
    model = tiny_llama(tokenizer, seed=4)
    prompts, groups = amber_like_prompts(seed=5)
    probe = tiny_judge(tokenizer, model)
    token_ids = [probe.encode(p) for p in prompts]
    lengths = {len(ids) for ids in token_ids}
    assert len(lengths) >= 5  # prompts of different lengths
    reference = unbatched_logits(probe, token_ids)
    total = sum(len(ids) + 1 for ids in token_ids)
    shortest = min(len(ids) for ids in token_ids) + 1
    for budget in (shortest, 200, 700, total, 10**9):
        for grouping in (groups, None):
            judge = tiny_judge(tokenizer, model, strategy=strategy, batch_tokens=budget)
            got = torch.zeros_like(reference)
            seen = []
            for indices, logits in judge.prompt_logits(token_ids, grouping):
                got[indices] = logits
                seen += indices
            assert sorted(seen) == list(range(len(prompts)))
            difference = (got - reference).abs().max().item()
            assert difference < 1e-4, (strategy, budget, grouping is None, difference)
            assert torch.equal(got.argmax(-1), reference.argmax(-1))
            if budget == shortest:  # one prompt's worth: every prompt alone (images split)
                assert judge.stats.batches == len(prompts)
            if budget == 10**9:  # everything in one batch
                assert judge.stats.batches == 1


def test_tokens_computed_are_unique_prefix_plus_suffix(tokenizer) -> None:  # type: ignore[no-untyped-def]
    prompts, groups = amber_like_prompts(seed=6)
    for strategy in ("packed", "cache"):
        # A budget that holds each image whole (a smaller one splits an image's prompts into
        # pieces, each computing the prefix again: tests/test_judge_context.py).
        judge = tiny_judge(tokenizer, tiny_llama(tokenizer), strategy=strategy, batch_tokens=10**6)
        token_ids = [judge.encode(p) for p in prompts]
        judge.answer(prompts, groups=groups)
        # By hand: per image, the longest common token prefix once, then each prompt's rest
        # plus the probe token.
        expected = 0
        for image in dict.fromkeys(groups):
            members = [ids for ids, g in zip(token_ids, groups, strict=True) if g == image]
            shared = 0
            while all(len(m) > shared + 1 for m in members) and all(
                m[shared] == members[0][shared] for m in members
            ):
                shared += 1
            expected += shared + sum(len(m) - shared + 1 for m in members)
        stats = judge.stats
        assert stats.tokens_computed == stats.prefix_tokens + stats.suffix_tokens == expected
        assert stats.prompt_tokens == sum(len(ids) + 1 for ids in token_ids)
        assert stats.tokens_computed < 0.6 * stats.prompt_tokens  # the 25-question image shares


def test_rendered_chat_prompt_matches_snapshot(tokenizer) -> None:  # type: ignore[no-untyped-def]
    """The chat-rendered prompt, frozen. How the file was checked: by hand against Llama-2's chat
    format, ``<s>[INST] PROMPT [/INST]`` without a system prompt and, with one, the system text
    between ``<<SYS>>`` and ``<</SYS>>`` lines and a blank line before the prompt; the two
    renderings are separated by a ``---`` line."""
    prompt = "If an image contains a dog, a red car. Is there a cat in this image?"
    plain = tiny_judge(tokenizer).render(prompt)
    with_system = tiny_judge(tokenizer, system_prompt="Answer with Yes or No.").render(prompt)
    raw = tiny_judge(tokenizer, raw_prompt=True).render(prompt)
    expected = (SNAPSHOTS / "judge_llama2_chat.txt").read_text(encoding="utf-8")
    assert f"{plain}\n---\n{with_system}\n" == expected
    assert raw == prompt
    ids = tiny_judge(tokenizer).encode(prompt)
    assert ids.count(tokenizer.bos_token_id) == 1 and ids[0] == tokenizer.bos_token_id
    assert tiny_judge(tokenizer, raw_prompt=True).encode(prompt)[0] == tokenizer.bos_token_id
