"""``python -m matcher``: the command line."""

from matcher.cli import main

main()
