"""Who made a request, recorded on its ASGI scope for the request journal (issue 20).

The authentication dependencies record the principal they resolved (``record``); the journal's
middleware, outermost, reads it once the response is sent. An answer served by the read cache
carries the principal recorded when it was computed (``portal.core.read_cache``), since neither
the route nor its dependencies run for it.

Plain values only: the scope outlives the request's session (the journal reads it later, off
the request path).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

#: ASGI scope key of the request's ``Principal``.
PRINCIPAL = "portal.principal"
#: ASGI scope key set (True) when the read cache answered the request without the route.
CACHED = "portal.cached"


class Principal(NamedTuple):
    """``kind``: operator, landlord, resident or integration; ``id``: the user, resident or
    integration (None for the operator); ``workspace_id``: the workspace the request acts in
    (None for the operator's server-wide routes); ``now``: that workspace's instant, read by the
    dependency (None when it read none)."""

    kind: str
    id: str | None
    workspace_id: str | None
    now: datetime | None


def record(scope: Any, principal: Principal) -> None:
    """Record the request's principal (the last recorded wins: the operator, then the operator
    in a workspace)."""
    scope[PRINCIPAL] = principal
