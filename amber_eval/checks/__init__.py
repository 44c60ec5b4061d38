"""Checks of the judge itself: its ceiling on the oracle captions (``judge-check``), agreement
between judges (``agree``) and the protocol's sensitivity to its open choices
(``sensitivity``)."""
