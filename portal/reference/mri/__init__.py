"""The reference MRI server (connectors.md §2, §3.3; docs/reference-mri.md)."""
