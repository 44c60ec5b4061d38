from __future__ import annotations

import pytest

from amber_eval.captions.dump import CaptionDump, CaptionerInfo, DumpHeader, ImageCaptions, Region
from amber_eval.captions.selection import SelectionSettings, clean_caption, select_captions
from amber_eval.errors import InputError

REGIONS = (
    Region("a dog.", 0.5),
    Region("  green   grass ", 0.9),
    Region("A Dog", 0.95),
    Region("a red ball...", None),
    Region("a tree", 0.7),
    Region(" . ", 0.99),
)
DUMP = CaptionDump(
    DumpHeader(CaptionerInfo("toy")),
    (ImageCaptions("AMBER_2.jpg", None, None, REGIONS), ImageCaptions("AMBER_1.jpg", 1, 1, ())),
)


def test_clean_caption() -> None:
    assert clean_caption(" a  dog.\n ") == "a dog"
    assert clean_caption("a dog . . ") == "a dog"
    assert clean_caption("Mr. Smith") == "Mr. Smith"
    assert clean_caption("...") == ""


def test_defaults_keep_dump_order_and_drop_duplicates() -> None:
    assert select_captions(DUMP) == {
        "AMBER_2.jpg": ["a dog", "green grass", "a red ball", "a tree"],
        "AMBER_1.jpg": [],
    }
    assert list(select_captions(DUMP)) == ["AMBER_2.jpg", "AMBER_1.jpg"]


def test_no_dedupe() -> None:
    selected = select_captions(DUMP.images, SelectionSettings(dedupe=False))
    assert selected["AMBER_2.jpg"] == ["a dog", "green grass", "A Dog", "a red ball", "a tree"]


def test_order_by_score_puts_unscored_last_and_dedupes_after_sorting() -> None:
    selected = select_captions(DUMP, SelectionSettings(order="score"))
    # "A Dog" (0.95) now comes before "a dog." (0.5), so it is the one kept.
    assert selected["AMBER_2.jpg"] == ["A Dog", "green grass", "a tree", "a red ball"]


def test_min_score_drops_low_and_unscored() -> None:
    selected = select_captions(DUMP, SelectionSettings(min_score=0.7))
    assert selected["AMBER_2.jpg"] == ["green grass", "A Dog", "a tree"]


def test_top_k_counts_kept_captions() -> None:
    assert select_captions(DUMP, SelectionSettings(top_k=2))["AMBER_2.jpg"] == [
        "a dog",
        "green grass",
    ]
    combined = SelectionSettings(top_k=2, order="score", min_score=0.6)
    assert select_captions(DUMP, combined)["AMBER_2.jpg"] == ["A Dog", "green grass"]


def test_settings_are_recorded_and_validated() -> None:
    assert SelectionSettings().to_json() == {
        "top_k": None,
        "min_score": None,
        "order": "dump",
        "dedupe": True,
    }
    assert SelectionSettings(3, 0.5, "score", False).to_json() == {
        "top_k": 3,
        "min_score": 0.5,
        "order": "score",
        "dedupe": False,
    }
    with pytest.raises(ValueError, match="top_k"):
        SelectionSettings(top_k=0)
    with pytest.raises(ValueError, match="order"):
        SelectionSettings(order="random")  # type: ignore[arg-type]


def test_from_options_reads_the_command_line_names() -> None:
    settings = SelectionSettings.from_options(
        top_k=2, min_score=0.5, order="shuffled", order_seed=7, keep_duplicates=True
    )
    assert settings == SelectionSettings(2, 0.5, "shuffled", dedupe=False, seed=7)
    assert settings.to_options() == {
        "top_k": 2,
        "min_score": 0.5,
        "order": "shuffled",
        "order_seed": 7,
        "keep_duplicates": True,
    }
    assert SelectionSettings.from_options(**settings.to_options()) == settings
    # None (an old run.json's null) is the default
    assert SelectionSettings.from_options(order=None, order_seed=None) == SelectionSettings()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"order": "random"}, "unknown caption order 'random'; use dump, score, reversed"),
        ({"top_k": 0}, "top_k must be a positive integer"),
        ({"top_k": "3"}, "top_k must be a positive integer, got '3'"),
        ({"min_score": "high"}, "min_score must be a number"),
        ({"order_seed": 1.5}, "order_seed must be an integer"),
        ({"keep_duplicates": "yes"}, "keep_duplicates must be true or false"),
    ],
)
def test_from_options_refuses_bad_values_as_input_errors(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        SelectionSettings.from_options(**options)  # type: ignore[arg-type]


def test_the_package_exports_the_selection() -> None:
    import amber_eval.captions as captions

    selected = captions.select_captions(DUMP, captions.SelectionSettings(top_k=1, order="score"))
    assert selected == select_captions(DUMP, SelectionSettings(top_k=1, order="score"))
