"""The connectors' refusals (issue 16): an import asked of an integration that cannot run one,
and an import run that is not there."""

from __future__ import annotations

from portal.core.errors import Conflict, NotFound


class ImportRunNotFound(NotFound):
    code = "import_run_not_found"


class IntegrationNotImportable(Conflict):
    """Only an integration whose server the portal calls can be synced (AMSI, issue 16); the
    others send their data to the portal themselves."""

    code = "integration_not_importable"


class IntegrationNotConnected(Conflict):
    """An AMSI integration without its eSite connection, password or properties."""

    code = "integration_not_connected"
