"""The operator's controls: workspaces, their clocks, reset, and scenarios."""
