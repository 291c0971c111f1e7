"""`python -m dedup.cli`."""

from dedup.cli import main

main()
