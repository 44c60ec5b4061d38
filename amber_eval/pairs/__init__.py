"""Parse-and-filter of image-text pairs: noun phrases scored against image regions, the lowest
fraction discarded (``amber-eval filter-pairs``; see ``docs/filter-pairs.md``).

Nothing heavy is imported here; the library entry point is
:func:`amber_eval.pairs.pipeline.filter_pairs` with :class:`~amber_eval.pairs.settings.FilterSettings`.
"""
