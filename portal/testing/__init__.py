"""Test helpers for accounting-client engineers: a live portal, its workspaces, clock and
mailbox and request journal, over HTTP only (``docs/pytest-plugin.md``).

The pytest fixtures are in :mod:`portal.testing.pytest_plugin`; the classes here work without
pytest too::

    with PortalServer.start(Path(tmp)) as server:
        ws = server.load_scenario("seed_data/oak-street-landlord12.json")
        ws.clock.advance(by="P1D")
        ws.mailbox.assert_sent(kind="batch_deposit_report")

Nothing here imports the server's code: ``PortalServer.start`` runs ``portal serve`` in a
subprocess, as the README does.
"""

from portal.testing._http import PortalRequestError
from portal.testing.clock import JobRun, PortalClock, PortalClockError
from portal.testing.journal import JournalEntry, PortalJournal
from portal.testing.mailbox import Email, PortalMailbox
from portal.testing.server import PortalServer
from portal.testing.workspace import Integration, LandlordLogin, PortalWorkspace

__all__ = [
    "Email",
    "Integration",
    "JobRun",
    "JournalEntry",
    "LandlordLogin",
    "PortalClock",
    "PortalClockError",
    "PortalJournal",
    "PortalMailbox",
    "PortalRequestError",
    "PortalServer",
    "PortalWorkspace",
]
