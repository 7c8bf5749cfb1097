"""`python -m think` runs the command line."""

from think.cli import main

main()
