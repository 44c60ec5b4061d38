"""judge-check (judge card, --with-ceiling), agree and sensitivity, with mock judges and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from amber_eval.captions.dump import ImageCaptions, Region
from amber_eval.captions.selection import SelectionSettings, select_regions
from amber_eval.checks.agreement_report import agree_runs, render_agreement
from amber_eval.checks.judge_card import judge_check
from amber_eval.checks.sensitivity import sensitivity, variants
from amber_eval.judge.mock import MockJudge
from amber_eval.judge_options import JudgeOptions
from amber_eval.reporting.run_data import load_run
from amber_eval.run_folder.config import RunConfig
from amber_eval.runs.pipeline import run_evaluation
from amber_eval.statistics.agreement import UNDEFINED_SAME

pytestmark = pytest.mark.usefixtures("amber_data_dir")


def _config(tmp_path: Path, **change: Any) -> RunConfig:
    base: dict[str, Any] = {
        "captions": "oracle",
        "llm": "mock",
        "limit_images": 6,
        "out": tmp_path / "results",
        "show_progress": False,
    }
    base.update(change)
    return RunConfig(**base)


@pytest.fixture
def truth_of(tmp_path: Path) -> dict[str, str]:
    """Prompt -> truth of the first six images' questions (oracle captions, paper template)."""
    result = run_evaluation(_config(tmp_path / "probe"), judge=MockJudge("No"))
    lines = [json.loads(x) for x in (result.folder / "answers.jsonl").read_text().splitlines()]
    return {line["prompt"]: line["truth"] for line in lines}


def _mostly_right(truth_of: dict[str, str]) -> Any:
    wrong = set(sorted(truth_of)[::8])

    def rule(prompt: str) -> str:
        return "Yes" if (truth_of[prompt] == "yes") != (prompt in wrong) else "No"

    return rule


def test_orders_reversed_and_shuffled() -> None:
    entry = ImageCaptions("AMBER_1.jpg", 10, 10, tuple(Region(c) for c in "abcdefgh"))
    assert select_regions(entry, SelectionSettings(order="reversed")) == list("hgfedcba")
    one = select_regions(entry, SelectionSettings(order="shuffled", seed=1))
    assert sorted(one) == list("abcdefgh") and one != list("abcdefgh")
    assert select_regions(entry, SelectionSettings(order="shuffled", seed=1)) == one
    assert select_regions(entry, SelectionSettings(order="shuffled", seed=2)) != one
    # orders without a seed keep the settings (and so the run hashes) they had
    assert "seed" not in SelectionSettings(order="dump").to_json()


def test_judge_card_of_a_good_judge(tmp_path: Path, truth_of: dict[str, str]) -> None:
    card = judge_check(_config(tmp_path), judge=MockJudge(_mostly_right(truth_of), name="good"))
    overall = card.block("overall")
    assert card.questions == len(truth_of) and card.images == 6
    assert overall.n == len(truth_of) and 80 < (overall.accuracy or 0) < 100
    assert overall.parse_failures == 0 and overall.flagged == 0.0
    # one question in eight (sorted(truth_of)[::8]) is answered wrong: the card follows exactly
    wrong = set(sorted(truth_of)[::8])
    yes_truth = [p for p, t in truth_of.items() if t == "yes"]
    no_truth = [p for p, t in truth_of.items() if t == "no"]
    said_yes = [p for p in truth_of if (truth_of[p] == "yes") != (p in wrong)]
    assert overall.yes_ratio == pytest.approx(len(said_yes) / len(truth_of))
    # the mock's P(yes) is 1 or 0: AUC = (TPR + TNR) / 2 of its decisions
    tpr = sum(p not in wrong for p in yes_truth) / len(yes_truth)
    tnr = sum(p not in wrong for p in no_truth) / len(no_truth)
    assert overall.auc == pytest.approx((tpr + tnr) / 2)
    # two bins (P = 0 and P = 1): each is off by its share of wrong answers, so ECE = wrong / n
    assert overall.ece == pytest.approx(len(wrong) / len(truth_of))
    folder = Path(card.run)
    data = json.loads((folder / "judge-card.json").read_text())
    assert data["format"] == "amber-eval/judge-card" and data["blocks"]["overall"]["n"] == overall.n
    assert data["warnings"] == []
    assert "| overall |" in (folder / "judge-card.md").read_text()


def test_judge_card_in_generate_mode_has_no_auc(tmp_path: Path) -> None:
    config = _config(tmp_path, judge_options=JudgeOptions(answer_mode="generate"))
    card = judge_check(config, judge=MockJudge("No."))
    assert card.block("overall").auc is None and card.block("overall").ece is None
    assert card.warnings  # the alarm: it always answers No


def test_report_with_ceiling(tmp_path: Path, run_cli: Any, truth_of: dict[str, str]) -> None:
    card = judge_check(_config(tmp_path), judge=MockJudge(_mostly_right(truth_of), name="good"))
    model_run = run_evaluation(_config(tmp_path, model="mymodel"), judge=MockJudge("No"))
    card_file = str(Path(card.run) / "judge-card.json")
    for given in (card_file, card.run):
        code, out, err = run_cli(
            ["report", str(model_run.folder), "--layout", "full", "--with-ceiling", given]
        )
        assert code == 0, err
        lines = out.splitlines()
        ceiling = next(i for i, line in enumerate(lines) if "(judge ceiling)" in line)
        model = next(i for i, line in enumerate(lines) if line.startswith("| mymodel"))
        assert model < ceiling  # under the model rows
        assert "**" not in lines[ceiling]  # a bound, never the best value
        assert "Judge ceiling:" in out
    code, out, err = run_cli(
        ["report", str(model_run.folder), "--format", "latex", "--with-ceiling", card_file]
    )
    assert code == 0 and "(judge ceiling)" in out
    # a run on other captions is no ceiling: an error naming it, exit code 2
    dump = tmp_path / "dump.jsonl"
    header = {"format": "amber-eval/region-captions", "version": 1, "captioner": {"name": "t"}}
    lines: list[dict[str, Any]] = [{**header, "created": "2025-01-01T00:00:00Z"}]
    lines += [{"image": f"AMBER_{i}.jpg", "regions": [{"caption": "a dog"}]} for i in (1, 2)]
    dump.write_text("".join(json.dumps(x) + "\n" for x in lines))
    other = run_evaluation(_config(tmp_path, captions=str(dump), limit_images=2), judge=MockJudge())
    code, _out, err = run_cli(
        ["report", str(model_run.folder), "--with-ceiling", str(other.folder)]
    )
    assert code == 2 and "not the oracle captions" in err and str(other.folder) in err
    code, _out, err = run_cli(
        ["report", str(model_run.folder), "--with-ceiling", str(other.folder / "run.json")]
    )
    assert code == 2 and "not a judge card" in err


def test_agree_two_and_three_runs(tmp_path: Path, truth_of: dict[str, str]) -> None:
    good = run_evaluation(_config(tmp_path), judge=MockJudge(_mostly_right(truth_of), name="g"))
    no = run_evaluation(_config(tmp_path), judge=MockJudge("No", name="n1"))
    no2 = run_evaluation(_config(tmp_path), judge=MockJudge("No", name="n2"))
    runs = [load_run(r.folder) for r in (good, no, no2)]
    report = agree_runs(runs, labels=["good", "no", "no2"], resamples=200)
    overall = report.blocks[0]
    assert overall.block == "overall" and overall.n == len(truth_of)
    by_pair = {(p.a, p.b): p for p in overall.pairs}
    # two judges that always say No agree fully, and their kappa is undefined, not 0 or NaN
    assert by_pair[(1, 2)].raw.interval.estimate == 1.0
    assert by_pair[(1, 2)].kappa.interval.estimate is None
    assert by_pair[(1, 2)].kappa.undefined == UNDEFINED_SAME
    # a constant judge against a varying one: defined and exactly 0 (chance)
    assert by_pair[(0, 1)].kappa.interval.estimate == pytest.approx(0.0)
    assert overall.fleiss is not None and overall.fleiss.undefined is None
    yes_share = sum(t == "yes" for t in truth_of.values()) / len(truth_of)
    assert by_pair[(0, 1)].raw.interval.estimate == pytest.approx(1 - yes_share, abs=0.15)
    assert report.disagreements and all(d.answers[1] == "No" for d in report.disagreements)
    markdown = render_agreement(report, "markdown")
    assert "undefined" in markdown and "nan" not in markdown.lower()
    data = json.loads(render_agreement(report, "json"))
    pair = data["blocks"]["overall"]["pairs"][2]
    assert pair["cohen_kappa"]["estimate"] is None and pair["cohen_kappa"]["undefined"]
    assert r"\begin{tabular}" in render_agreement(report, "latex")


def test_agree_and_compare_take_the_shared_questions_and_say_what_differs(
    tmp_path: Path,
) -> None:
    six = run_evaluation(_config(tmp_path), judge=MockJudge("No", name="always-no"))
    four = run_evaluation(
        _config(tmp_path, limit_images=4), judge=MockJudge("Yes", name="always-yes")
    )
    a, b = load_run(six.folder), load_run(four.folder)
    shared, extra = len(b.answers()), len(a.answers()) - len(b.answers())
    assert extra > 0
    report = agree_runs([a, b], labels=["six", "four"], resamples=50, top=0)
    assert report.questions == shared
    assert (
        report.notes[0] == f"Only the shared questions are compared; left out: {extra} only in six."
    )
    assert report.notes[1].startswith("The judges differ (six: mock (model=always-no, ")
    assert any(
        note.startswith("four raised the useless-judge alarm (Yes to 100.0%")
        for note in report.notes
    )
    markdown = render_agreement(report, "markdown")
    # always No against always Yes: every shared question differs; --top 0 lists none
    assert "No question was answered differently" not in markdown
    assert f"{shared} question(s) were answered differently (none listed)." in markdown
    assert json.loads(render_agreement(report, "json"))["disagreed"] == shared
    from amber_eval.reporting.compare import compare_runs, render_comparison
    from amber_eval.reporting.tables import CISettings

    comparison = compare_runs(a, b, label_a="six", label_b="four", ci=CISettings(resamples=50))
    assert comparison.result.images == 4 and comparison.result.only_a == 2
    text = render_comparison(comparison, "markdown")
    assert "Only the shared images are compared; left out: 2 only in A." in text
    assert "four: mock (model=always-yes, " in text
    assert "four raised the useless-judge alarm" in text
    # always Yes has no "No" answer: its precision is n/a, so is the difference and its test
    precision = next(line for line in text.splitlines() if line.startswith("| overall.Precision"))
    assert precision.endswith("| -- | -- | n/a |")
    latex = render_comparison(comparison, "latex")
    a_precision = precision.split("|")[2].strip()
    assert rf"overall.Precision & {a_precision} & -- & -- & -- & n/a \\" in latex
    assert r"\begin{tabular}{lrrrcc}" in latex and "left out: 2 only in A" in latex


def test_agree_reports_krippendorff_alpha_with_unparsed_answers_missing(
    tmp_path: Path, truth_of: dict[str, str]
) -> None:
    right = _mostly_right(truth_of)
    unreadable = set(sorted(truth_of)[1::5])

    def sometimes_unreadable(prompt: str) -> str:
        return "I cannot tell." if prompt in unreadable else right(prompt)

    a = run_evaluation(_config(tmp_path), judge=MockJudge(right, name="a"))
    b = run_evaluation(_config(tmp_path), judge=MockJudge(sometimes_unreadable, name="b"))
    c = run_evaluation(_config(tmp_path), judge=MockJudge("No", name="c"))
    runs = [load_run(r.folder) for r in (a, b, c)]
    report = agree_runs(runs, labels=["a", "b", "c"], resamples=200)
    overall = report.blocks[0]
    ab = overall.pairs[0]
    # b answers as a wherever it can be read: no readable disagreement, so alpha is exactly 1,
    # while kappa counts "unparsed" as a category of its own and falls below 1
    assert ab.alpha.interval.estimate == pytest.approx(1.0) and ab.alpha.undefined is None
    assert ab.kappa.interval.estimate is not None and ab.kappa.interval.estimate < 1.0
    expected_raw = 1 - len(unreadable) / len(truth_of)
    assert ab.raw.interval.estimate == pytest.approx(expected_raw)
    # a against the constant "No" judge: hand-computed from the coincidences of its answers
    answers_a = [line.parsed for line in runs[0].answers()]
    yes = answers_a.count("yes")
    total = 2 * len(answers_a)
    # o_yn = o_ny = yes (each disagreeing question), n_yes = yes, n_no = total - yes
    expected = 1 - (total - 1) * 2 * yes / (2 * yes * (total - yes))
    assert overall.pairs[1].alpha.interval.estimate == pytest.approx(expected)
    assert overall.alpha is not None and overall.alpha.undefined is None
    low, high = overall.alpha.interval.low, overall.alpha.interval.high
    assert low is not None and high is not None and low <= overall.alpha.interval.estimate <= high
    markdown = render_agreement(report, "markdown")
    assert "| Alpha |" in markdown and "Krippendorff" in markdown
    data = json.loads(render_agreement(report, "json"))
    first = data["blocks"]["overall"]["pairs"][0]["krippendorff_alpha"]
    assert first["estimate"] == pytest.approx(1.0)
    assert data["blocks"]["overall"]["krippendorff_alpha"]["undefined"] is None
    assert r"$\alpha$" in render_agreement(report, "latex")
    # two constant judges: alpha undefined, said as such
    d = run_evaluation(_config(tmp_path), judge=MockJudge("No", name="d"))
    same = agree_runs([runs[2], load_run(d.folder)], resamples=50).blocks[0].pairs[0].alpha
    assert same.interval.estimate is None and same.undefined == UNDEFINED_SAME


def test_sensitivity_variants_go_through_the_store(tmp_path: Path) -> None:
    config = _config(tmp_path, limit_images=3)
    names = [v.name for v in variants(config)]
    assert names[0] == "default" and "template paper-alt" in names and len(names) == 7
    seen: list[str] = []

    def factory(variant: RunConfig) -> MockJudge:
        def rule(prompt: str) -> str:
            seen.append(prompt)
            return "Yes" if sum(map(ord, prompt)) % 2 else "No"

        return MockJudge(rule, system_prompt=variant.judge_options.system_prompt)

    report = sensitivity(config, judge_factory=factory, resamples=200)
    assert len(set(report.folders.values())) == 7
    rows = {(r.variant, r.block): r for r in report.rows}
    assert rows[("default", "overall")].difference is None
    changed = rows[("template paper-alt", "overall")]
    assert changed.difference is not None and changed.low is not None
    asked = len(seen)
    again = sensitivity(config, judge_factory=factory, resamples=200)
    assert len(seen) == asked  # everything came from the store or the run folders
    assert again.rows == report.rows


def test_sensitivity_difference_is_variant_minus_default(
    tmp_path: Path, truth_of: dict[str, str]
) -> None:
    """A judge right on every default question and wrong on one in eight with the system
    prompt: the system-prompt row's difference is its F1 minus the default's, negative."""
    mostly_right = _mostly_right(truth_of)

    def factory(variant: RunConfig) -> MockJudge:
        def rule(prompt: str) -> str:
            if prompt not in truth_of:  # other templates and orders: not compared here
                return "No"
            if variant.judge_options.system_prompt is None:
                return "Yes" if truth_of[prompt] == "yes" else "No"
            return str(mostly_right(prompt))

        return MockJudge(rule, system_prompt=variant.judge_options.system_prompt)

    report = sensitivity(_config(tmp_path), judge_factory=factory, resamples=50, seed=0)
    rows = {(r.variant, r.block): r for r in report.rows}
    default, changed = rows[("default", "overall")], rows[("system prompt on", "overall")]
    wrong = set(sorted(truth_of)[::8])
    # AMBER's positive class is "No"
    tp = sum(t == "no" and p not in wrong for p, t in truth_of.items())
    fp = sum(t == "yes" and p in wrong for p, t in truth_of.items())
    fn = sum(t == "no" and p in wrong for p, t in truth_of.items())
    assert default.f1 == pytest.approx(100.0)
    assert changed.f1 == pytest.approx(100 * 2 * tp / (2 * tp + fp + fn))
    assert changed.difference == pytest.approx(changed.f1 - 100.0)
    assert changed.difference < 0
