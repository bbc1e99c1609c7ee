"""The reference AMSI eSite server (connectors.md §1, §3.2; docs/reference-amsi.md)."""
