"""The OpenAPI document, rendered deterministically (style.md B12); ``portal openapi`` writes it
to ``openapi/openapi.json`` and a test fails when that file is stale."""

from __future__ import annotations

import json

from portal.core.settings import Settings
from portal.main import create_app


def render() -> str:
    app = create_app(Settings(operator_key="unused", secret_key="unused"))
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    Path("openapi/openapi.json").write_text(render())
