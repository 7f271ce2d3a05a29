"""``python -m kompas``: the same command line as the ``kompas`` script."""

from kompas.cli import main

main()
