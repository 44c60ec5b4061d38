"""Timing full-set scoring against the upstream algorithm (``amber-eval bench-score``).

* **ours, cold**: ``amber-eval score`` as a fresh process with empty caches (noun extraction on
  all cores, the similarity table computed once with the pipeline's own ``Doc.similarity``);
* **ours, warm**: the same command again, caches filled;
* **upstream**: a fresh process doing what the upstream script does: import NLTK and spaCy,
  load the pipeline, extract nouns serially, then one ``nlp(a).similarity(nlp(b))`` call per
  pair the upstream algorithm compares. The pairs are enumerated exactly (same walks, same
  stopping points); the per-pair cost is measured on a seeded random sample of them in the same
  run and extrapolated to all of them.

The ratio is the upstream estimate over our time. Both sides run with ``OMP_NUM_THREADS=1``. CPU
seconds (user + system, worker processes included) are reported too: on a machine shared with
other jobs they vary much less than wall-clock times.

The upstream side runs as ``python -m amber_eval.benchmarks.scoring PIPELINE PROBE.json`` (a
child process started by :func:`run_bench`, not a command for users).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from amber_eval.scoring.generative import Vocabulary, _candidates


def upstream_similarity_pairs(
    nouns: Sequence[str],
    truth: Sequence[str],
    hallu: Sequence[str],
    vocabulary: Vocabulary,
    similar: Callable[[str, str], bool],
) -> list[tuple[str, str]]:
    """The ``check_synonyms_word`` calls the upstream makes for one description, in order.

    ``nouns`` are the kept vocabulary nouns (official mode). Steps a and b end a noun before any
    call; step d walks the hallucination words to the first similar one, step e the safe words.
    """
    safe = [word for word, _ in _candidates(truth, vocabulary.association)]
    halls = [word for word, _ in _candidates(hallu, vocabulary.association)]
    safe_set = set(safe)
    calls: list[tuple[str, str]] = []
    for noun in nouns:
        if noun in vocabulary.safe_words or noun in safe_set:
            continue
        for walk in (halls, safe):
            for word in walk:
                calls.append((noun, word))
                if similar(noun, word):
                    break
    return calls


@dataclass(frozen=True)
class BenchReport:
    responses: str
    pipeline: str
    descriptions: int
    answers: int
    cold_s: float
    warm_s: float
    upstream_fixed_s: float
    pairs: int
    sample: int
    per_pair_ms: float
    cold_cpu_s: float
    warm_cpu_s: float
    upstream_fixed_cpu_s: float
    per_pair_cpu_ms: float
    sample_decisions_identical: bool
    numbers_identical: bool | None
    cpus: int

    @property
    def upstream_s(self) -> float:
        return self.upstream_fixed_s + self.pairs * self.per_pair_ms / 1000

    @property
    def upstream_cpu_s(self) -> float:
        return self.upstream_fixed_cpu_s + self.pairs * self.per_pair_cpu_ms / 1000

    @property
    def cpu_ratio_cold(self) -> float:
        return self.upstream_cpu_s / self.cold_cpu_s

    @property
    def ratio_cold(self) -> float:
        return self.upstream_s / self.cold_s

    @property
    def ratio_warm(self) -> float:
        return self.upstream_s / self.warm_s

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            upstream_s=self.upstream_s,
            ratio_cold=self.ratio_cold,
            ratio_warm=self.ratio_warm,
            upstream_cpu_s=self.upstream_cpu_s,
            cpu_ratio_cold=self.cpu_ratio_cold,
        )
        return data


def _env(cache: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    if cache is not None:
        env["AMBER_EVAL_CACHE"] = str(cache)
    return env


def _time_score(
    responses: Path, pipeline: str, eval_type: str, cache: Path, data_dir: Path
) -> tuple[float, float, dict[str, Any]]:
    command = [
        sys.executable,
        "-m",
        "amber_eval",
        "score",
        str(responses),
        "--type",
        eval_type,
        "--mode",
        "official",
        "--spacy-model",
        pipeline,
        "--data-dir",
        str(data_dir),
        "--format",
        "upstream",
        "--json",
        str(cache / "scores.json"),
    ]
    cpu_before = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=_env(cache), check=False)
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    if proc.returncode != 0:
        raise RuntimeError(f"scoring failed ({proc.returncode}): {proc.stderr.strip()}")
    outputs = {"text": proc.stdout, "json": json.loads((cache / "scores.json").read_text())}
    return elapsed, cpu, outputs


def _children_cpu() -> float:
    """CPU seconds (user + system) of finished child processes, their workers included."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Unix
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_bench(
    responses: Path,
    *,
    spacy_model: str | None,
    vectors_pipeline: str | None,
    eval_type: str = "a",
    sample: int = 300,
    seed: int = 0,
    data_dir: Path | None = None,
    expected_text: str | None = None,
    log: Callable[[str], None] = print,
) -> BenchReport:
    """Measure cold, warm and the upstream estimate; see the module docstring."""
    from amber_eval.data import load_benchmark
    from amber_eval.errors import InputError
    from amber_eval.scoring import read_responses, score_responses
    from amber_eval.scoring.similarity import load_similarity

    benchmark = load_benchmark(data_dir)
    loaded = read_responses(responses)
    with tempfile.TemporaryDirectory(prefix="amber-bench-") as tmp_name:
        tmp = Path(tmp_name)
        pipeline = spacy_model
        if pipeline is None:
            if vectors_pipeline is None:
                raise InputError("give --spacy-model, or --vectors to build the stand-in pipeline")
            from amber_eval.benchmarks.spacy_standin import build_standin_pipeline

            log(f"building the stand-in full pipeline with the vectors of {vectors_pipeline}")
            pipeline = str(build_standin_pipeline(vectors_pipeline, tmp / "standin-pipeline"))

        log("ours, cold (empty caches) ...")
        cache = tmp / "cache"
        cache.mkdir()
        cold_s, cold_cpu, cold = _time_score(
            responses, pipeline, eval_type, cache, benchmark.data_dir
        )
        log(f"  {cold_s:.2f} s")
        log("ours, warm ...")
        warm_s, warm_cpu, warm = _time_score(
            responses, pipeline, eval_type, cache, benchmark.data_dir
        )
        log(f"  {warm_s:.2f} s")

        # The upstream's pairs, from our (identical) per-item decisions.
        os.environ.setdefault("AMBER_EVAL_CACHE", str(cache))
        previous = os.environ.get("AMBER_EVAL_CACHE")
        os.environ["AMBER_EVAL_CACHE"] = str(cache)
        try:
            table = load_similarity(pipeline, vocabulary=benchmark.vocabulary)
            result = score_responses(
                loaded, eval_type=eval_type, rules="official", benchmark=benchmark, similarity=table
            )
        finally:
            if previous is None:
                os.environ.pop("AMBER_EVAL_CACHE", None)
            else:
                os.environ["AMBER_EVAL_CACHE"] = previous
        vocabulary = Vocabulary.from_benchmark(benchmark)
        pairs: list[tuple[str, str]] = []
        descriptions = 0
        for item in result.items:
            if item.kind == "description":
                descriptions += 1
                entry = benchmark.generative[item.id]
                pairs += upstream_similarity_pairs(
                    item.nouns, entry.truth, entry.hallu, vocabulary, table.similar
                )
        rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
        sampled = rng.sample(pairs, min(sample, len(pairs)))
        texts = [r.response for r in loaded if r.id in benchmark.generative]
        probe_in = tmp / "probe.json"
        probe_in.write_text(json.dumps({"texts": texts, "pairs": sampled}))
        log(f"upstream: {len(pairs)} similarity calls; timing {len(sampled)} of them ...")
        probe = _run_probe(pipeline, probe_in)
        identical_sample = all(
            (value > table.threshold) == table.similar(a, b)
            for (a, b), value in zip(sampled, probe["values"], strict=True)
        )
        numbers_identical = None
        if expected_text is not None:
            numbers_identical = cold["text"] == expected_text == warm["text"]
        return BenchReport(
            responses=str(responses),
            pipeline=pipeline if spacy_model else f"stand-in full pipeline ({vectors_pipeline})",
            descriptions=descriptions,
            answers=len(loaded) - descriptions,
            cold_s=cold_s,
            warm_s=warm_s,
            upstream_fixed_s=probe["fixed_s"],
            pairs=len(pairs),
            sample=len(sampled),
            per_pair_ms=probe["per_pair_s"] * 1000,
            cold_cpu_s=cold_cpu,
            warm_cpu_s=warm_cpu,
            upstream_fixed_cpu_s=probe["fixed_cpu_s"],
            per_pair_cpu_ms=probe["per_pair_cpu_s"] * 1000,
            sample_decisions_identical=identical_sample,
            numbers_identical=numbers_identical,
            cpus=os.cpu_count() or 1,
        )


def _run_probe(pipeline: str, probe_in: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "amber_eval.benchmarks.scoring", pipeline, str(probe_in)]
    proc = subprocess.run(command, capture_output=True, text=True, env=_env(), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"upstream probe failed: {proc.stderr.strip()}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _probe(pipeline: str, probe_in: str) -> dict[str, Any]:
    """The upstream's work in a fresh process: imports, pipeline load, serial NLTK, pair calls."""
    start = time.perf_counter()
    import warnings

    import nltk
    import spacy
    from nltk.stem import WordNetLemmatizer

    warnings.filterwarnings("ignore", category=UserWarning)
    nlp = spacy.load(pipeline)
    data = json.loads(Path(probe_in).read_text())
    for text in data["texts"]:  # the upstream's extract_nouns, one text at a time
        lemmatizer = WordNetLemmatizer()
        tagged = nltk.pos_tag(nltk.word_tokenize(text))
        [lemmatizer.lemmatize(word) for word, pos in tagged if pos.startswith("NN")]
    fixed = time.perf_counter() - start
    fixed_cpu = time.process_time()  # CPU since this process started
    values = []
    pairs_start, pairs_cpu = time.perf_counter(), time.process_time()
    for a, b in data["pairs"]:
        values.append(nlp(a).similarity(nlp(b)))
    count = max(1, len(data["pairs"]))
    return {
        "fixed_s": fixed,
        "per_pair_s": (time.perf_counter() - pairs_start) / count,
        "fixed_cpu_s": fixed_cpu,
        "per_pair_cpu_s": (time.process_time() - pairs_cpu) / count,
        "values": values,
    }


if __name__ == "__main__":
    print(json.dumps(_probe(sys.argv[1], sys.argv[2])))
