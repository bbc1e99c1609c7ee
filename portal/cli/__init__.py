"""The ``portal`` command line (architecture.md §10). ``portal.cli:app`` is the console entry
point; the commands are in ``main``, the two places they work (a server, a database) in
``remote`` and ``local``."""

from portal.cli.main import app

__all__ = ["app"]
