"""The ceiling for this stack (issue 19): a minimal Starlette app that answers every GET with the
same bytes, held as a constant: the portal's own receipt-batch body, read once at start-up from
the file ``CONSTANT_BODY`` names. No database, no authentication, no encoding per request: what
uvicorn and Starlette cost on their own. Run by ``bench/receipts_http.py``:

    CONSTANT_BODY=/tmp/body.json uvicorn bench.constant_app:app --port 8102
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ.get("CONSTANT_BODY", "/dev/null")).read_bytes()


async def constant(_request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", constant)])
