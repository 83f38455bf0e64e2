"""``python -m journeybridge.cli``: the same as the ``journeybridge`` command."""

from journeybridge.cli import main

main()
