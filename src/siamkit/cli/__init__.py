"""The ``siamkit`` command line: thin typer commands that parse and call the library.

The console script is :func:`siamkit.cli.entry.main`; the commands live in
:mod:`siamkit.cli.main`.
"""
