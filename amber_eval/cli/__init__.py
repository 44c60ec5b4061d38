"""The ``amber-eval`` command line: a thin layer over the library.

Each command lives in its own module and is imported only when it runs, so ``amber-eval --help``
stays fast and a scoring-only install never imports torch.
"""
