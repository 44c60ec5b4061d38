"""Every generative rule of the upstream scorer, on hand-built items with hand-computed counts."""

from __future__ import annotations

import pytest
from test_scoring_helpers import ASSOCIATION, SAFE_WORDS, make_similarity

from amber_eval.scoring.generative import Vocabulary, generative_block, score_description
from amber_eval.scoring.records import DescriptionRecord

VOCAB = Vocabulary(association=ASSOCIATION, safe_words=SAFE_WORDS)


def run(
    nouns: list[str],
    truth: tuple[str, ...],
    hallu: tuple[str, ...],
    pairs: dict[tuple[str, str], float] | None = None,
    *,
    strict: bool = False,
) -> DescriptionRecord:
    table = make_similarity(pairs)
    return score_description(
        1, "AMBER_1.jpg", nouns, truth, hallu, VOCAB, table.similar, strict=strict
    )


def test_vocabulary_holds_keys_and_associated_words() -> None:
    assert VOCAB.words == {
        "dog", "puppy", "cat", "kitten", "grass", "lawn", "sky", "background",
        "horse", "wolf", "tree", "TV",
    }  # fmt: skip


def test_association_word_of_a_truth_object_covers_it() -> None:
    # "puppy" is associated with "dog", the second truth object: its flag is set.
    record = run(["puppy"], truth=("grass", "dog"), hallu=("cat",))
    assert record.covered == {"puppy": "dog"}
    assert (record.cover_score, record.cover_num) == (1, 2)
    assert (record.chair_score, record.chair_num) == (0, 1)
    assert record.hallucinated == ()
    assert record.hallucination_free


def test_noun_similar_to_a_hallu_word_and_to_a_truth_word() -> None:
    # "wolf" is neither a truth nor a hallu word; sim(wolf, cat) = 0.9 marks cat (step d),
    # then sim(wolf, dog) = 0.85 covers dog (step e): Cog hit, covered, not hallucinated.
    pairs = {("wolf", "cat"): 0.9, ("wolf", "dog"): 0.85}
    for strict in (False, True):
        record = run(["wolf"], truth=("dog",), hallu=("cat",), pairs=pairs, strict=strict)
        assert record.cog == ("cat",)
        assert (record.cog_score, record.cog_num) == (1, 1)
        assert record.covered == {"wolf": "dog"}
        assert (record.cover_score, record.chair_score) == (1, 0)


def test_safe_word_is_skipped_but_counted_in_chair_num() -> None:
    record = run(["background", "dog"], truth=("dog",), hallu=())
    assert record.skipped == ("background",)
    assert (record.chair_score, record.chair_num) == (0, 2)
    assert (record.cover_score, record.cover_num) == (1, 1)


def test_noun_outside_the_vocabulary_is_dropped() -> None:
    record = run(["table", "dog"], truth=("dog",), hallu=())
    assert record.nouns == ("dog",)
    assert record.chair_num == 1


def test_capitalised_noun_is_dropped_officially_and_kept_in_strict_mode() -> None:
    official = run(["Dog"], truth=("dog",), hallu=())
    assert official.nouns == ()
    assert (official.chair_num, official.cover_score) == (0, 0)
    strict = run(["Dog"], truth=("dog",), hallu=(), strict=True)
    assert strict.nouns == ("dog",)
    assert (strict.chair_num, strict.cover_score) == (1, 1)
    # "tv" maps back to the vocabulary's spelling "TV" in strict mode only.
    assert run(["tv"], truth=("TV",), hallu=(), strict=True).covered == {"TV": "TV"}
    assert run(["tv"], truth=("TV",), hallu=()).nouns == ()


def test_repeated_nouns_count_every_time() -> None:
    # dog covers twice (one flag); cat twice: exact hallu word (step c), identity in step d,
    # no similar truth word: two hallucinated mentions.
    record = run(["dog", "dog", "cat", "cat"], truth=("dog",), hallu=("cat",))
    assert record.hallucinated == ("cat", "cat")
    assert (record.chair_score, record.chair_num) == (2, 4)
    assert (record.cover_score, record.cover_num) == (1, 1)
    assert (record.cog_score, record.cog_num) == (1, 1)
    assert not record.hallucination_free


def test_repeated_truth_and_hallu_objects_have_one_flag_each() -> None:
    # Marking always hits the first position equal to the noun: the second "dog" (and "cat")
    # position can never be set by the same word.
    record = run(["dog", "dog", "cat"], truth=("dog", "dog"), hallu=("cat", "cat"))
    assert (record.cover_score, record.cover_num) == (1, 2)
    assert (record.cog_score, record.cog_num) == (1, 2)


def test_hallu_association_word_marks_its_object_and_is_hallucinated() -> None:
    record = run(["kitten"], truth=("dog",), hallu=("cat",))
    assert record.cog == ("cat",)
    assert record.hallucinated == ("kitten",)


def test_similarity_walks_stop_at_the_first_similar_word() -> None:
    pairs = {
        ("wolf", "cat"): 0.9,
        ("wolf", "horse"): 0.95,
        ("wolf", "dog"): 0.9,
        ("wolf", "grass"): 0.9,
    }
    record = run(["wolf"], truth=("dog", "grass"), hallu=("cat", "horse"), pairs=pairs)
    assert record.cog == ("cat",)
    assert record.covered == {"wolf": "dog"}
    assert record.cover_score == 1


def test_similarity_threshold_is_strictly_above_0_8() -> None:
    record = run(["wolf"], truth=("dog",), hallu=(), pairs={("wolf", "dog"): 0.8})
    assert record.hallucinated == ("wolf",)
    record = run(["wolf"], truth=("dog",), hallu=(), pairs={("wolf", "dog"): 0.80001})
    assert record.covered == {"wolf": "dog"}


def test_upstream_lets_a_hallu_word_cover_a_similar_truth_word() -> None:
    # "cat" is the annotated hallucination; sim(cat, dog) = 0.9 > 0.8.
    pairs = {("cat", "dog"): 0.9}
    official = run(["cat"], truth=("dog",), hallu=("cat",), pairs=pairs)
    assert official.covered == {"cat": "dog"}
    assert (official.cover_score, official.chair_score, official.cog_score) == (1, 0, 1)
    strict = run(["cat"], truth=("dog",), hallu=("cat",), pairs=pairs, strict=True)
    assert strict.covered == {}
    assert strict.hallucinated == ("cat",)
    assert (strict.cover_score, strict.chair_score, strict.cog_score) == (0, 1, 1)
    # Its associated word is a hallucination word too.
    strict = run(["kitten"], ("dog",), ("cat",), {("kitten", "dog"): 0.9}, strict=True)
    assert strict.hallucinated == ("kitten",)


def _record(
    chair: tuple[int, int], cover: tuple[int, int], cog: tuple[int, int]
) -> DescriptionRecord:
    return DescriptionRecord(
        id=1,
        image="AMBER_1.jpg",
        nouns=(),
        skipped=(),
        covered={},
        cog=(),
        hallucinated=(),
        chair_score=chair[0],
        chair_num=chair[1],
        cover_score=cover[0],
        cover_num=cover[1],
        cog_score=cog[0],
        cog_num=cog[1],
        hallucination_free=chair[0] == 0,
    )


def test_official_block_uses_the_0_001_counters() -> None:
    records = [_record((1, 1), (2, 3), (0, 2)), _record((0, 1), (0, 0), (1, 1))]
    block = generative_block(records, rules="official")
    # CHAIR 1/2.001 = 49.975 -> 50.0; Cover 2/3.001 = 66.644 -> 66.6;
    # Hal 100 - 1/2.001*100 = 50.025 -> 50.0; Cog 1/3.001 = 33.322 -> 33.3
    assert block == {"CHAIR": 50.0, "Cover": 66.6, "Hal": 50.0, "Cog": 33.3}
    strict = generative_block(records, rules="strict")
    assert strict["CHAIR"] == 50.0
    assert strict["Cover"] == pytest.approx(200 / 3)
    assert strict["Hal"] == 50.0
    assert strict["Cog"] == pytest.approx(100 / 3)
    assert strict["n"] == 2


def test_one_hallucination_free_description_gives_hal_0_1_officially() -> None:
    # 100 - 1/1.001*100 = 0.0999 -> 0.1 (the 0.001 counter shows through); strict: 0.
    records = [_record((0, 1), (1, 1), (0, 1))]
    assert generative_block(records, rules="official")["Hal"] == 0.1
    assert generative_block(records, rules="strict")["Hal"] == 0.0


def test_empty_generative_set() -> None:
    assert generative_block([], rules="official") == {
        "CHAIR": 0.0,
        "Cover": 0.0,
        "Hal": 100.0,
        "Cog": 0.0,
    }
    strict = generative_block([], rules="strict")
    assert (strict["CHAIR"], strict["Cover"], strict["Hal"], strict["Cog"]) == (
        None,
        None,
        None,
        None,
    )
