"""amber-eval: the AMBER hallucination benchmark for region-caption models and multimodal LLMs.

Importing this package has no side effects: no logging set-up, no downloads, no heavy imports.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
