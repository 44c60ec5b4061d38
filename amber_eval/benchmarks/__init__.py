r"""Every benchmark in one place; each is an ``amber-eval bench*`` command (``amber_eval.cli.bench``).

| command | module | times |
| --- | --- | --- |
| ``bench`` | :mod:`~amber_eval.benchmarks.judge` | the judge against the naive ``generate()`` loop |
| ``bench --backend vllm\|openai`` | :mod:`~amber_eval.benchmarks.engines` | an engine backend against the naive loop |
| ``bench-score`` | :mod:`~amber_eval.benchmarks.scoring` | full-set scoring against the upstream algorithm |
| ``bench-segment`` | :mod:`~amber_eval.benchmarks.segmenter` | a mask source + captioner on generated images |
| ``bench-report`` | :mod:`~amber_eval.benchmarks.reporting` | the bootstrap and the HTML report of a full-size run |
| ``bench-pairs`` | :mod:`~amber_eval.benchmarks.pairs` | parse-and-filter memory and text-side throughput |
| ``bench-gpu`` | :mod:`~amber_eval.benchmarks.gpu_check` (:mod:`~amber_eval.benchmarks.gpu_bundle`, :mod:`~amber_eval.benchmarks.gpu_figures`) | every GPU step in one command, without network |

What they run on ships here too, because users run the benchmarks without downloads:
:mod:`~amber_eval.benchmarks.random_models` (random open_clip, BLIP, SAM),
:mod:`~amber_eval.benchmarks.spacy_standin` (a full spaCy pipeline stand-in),
:mod:`~amber_eval.benchmarks.synthetic_runs` and :mod:`~amber_eval.benchmarks.synthetic_pairs`
(seeded synthetic data). The ``--random-weights`` judges are the judge's own
(:mod:`~amber_eval.judge.random_weights`). Importing this package imports nothing heavy.
"""
