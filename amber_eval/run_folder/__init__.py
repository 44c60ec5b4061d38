"""A run folder's files and their record types: the layer every writer and reader goes through.

``results/<model>/<llm>-<config hash>/`` holds ``run.json`` (:mod:`.record`, its config in
:mod:`.config`), ``answers.jsonl`` (:mod:`.answer_line`), ``coverage.jsonl``
(:mod:`.coverage_line`), ``metrics.json`` (:mod:`.metrics`), ``selected-captions.json`` and
``responses.json``; :mod:`.files` names them and writes and reads them. This package imports
only the vocabulary (:mod:`amber_eval.terms`), :mod:`amber_eval.io`, :mod:`amber_eval.errors`
and the option records a run config holds (:mod:`amber_eval.judge_options`, the caption
selection's :mod:`amber_eval.captions.selection` and :mod:`amber_eval.captions.records`):
reading a run folder loads no judge, scorer or report code.
"""
