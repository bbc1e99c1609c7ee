"""The connectors' refusals (issues 16, 17): an import asked of an integration that cannot run
one, and an import run that is not there."""

from __future__ import annotations

from portal.core.errors import Conflict, NotFound


class ImportRunNotFound(NotFound):
    code = "import_run_not_found"


class IntegrationNotImportable(Conflict):
    """Only an integration whose server the portal calls can be synced (AMSI, issue 16; MRI,
    issue 17); the others send their data to the portal themselves."""

    code = "integration_not_importable"


class IntegrationNotConnected(Conflict):
    """An AMSI or MRI integration without its connection, password or properties."""

    code = "integration_not_connected"
