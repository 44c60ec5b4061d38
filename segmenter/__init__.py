"""Region captioning: mask sources, captioners and the ``segment`` pipeline.

Installed as ``amber_eval.segmenter``.
"""
