"""Workspaces: isolated sandboxes, each with its own clock, ID seed and settings."""
