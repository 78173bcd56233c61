"""``python -m siamkit`` (and ``torchrun -m siamkit``) run the CLI."""

from siamkit.cli.entry import main

main()
