"""Entry point for ``python -m mlvc``."""

from mlvc.cli import main

main()
