"""``python -m amber_eval`` runs the command-line interface."""

from amber_eval.cli.main import main

if __name__ == "__main__":
    main()
