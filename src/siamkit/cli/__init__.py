"""The ``siamkit`` command line: thin typer commands that parse and call the library."""
