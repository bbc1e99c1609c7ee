"""The suite's own tests of the pytest plugin (``portal.testing.pytest_plugin``).

Installed with its ``pytest11`` entry point, the plugin is loaded by pytest itself; from an
install made before that entry point existed, it is registered here, so these tests find its
fixtures and markers either way. Registering it late is safe: its options are read with
defaults, and its markers are added before these modules are imported."""

from __future__ import annotations

import pytest

from portal.testing import pytest_plugin


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.is_registered(pytest_plugin):
        config.pluginmanager.register(pytest_plugin, pytest_plugin.__name__)
