"""Reference vendor servers: stand-ins for the accounting systems the portal posts to.

Each is a separate ASGI app started on its own port (``portal reference KIND``) that speaks the
vendor's wire format (connectors.md §1-§3) plus an admin API under ``/_ref/…`` the vendor never
had. They are vendors' systems, not part of the portal: they import nothing of the portal but
``portal.core``, and the portal reaches them only over HTTP (import-linter contracts in
pyproject.toml). State lives in the server's memory (docs/reference-amsi.md).
"""
