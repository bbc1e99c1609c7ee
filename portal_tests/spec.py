"""The rendered OpenAPI document, once per test process: rendering builds an app and its whole
schema (~1 s of CPU), and half a dozen modules read it."""

from __future__ import annotations

import functools
import json
from typing import Any

from portal.openapi import render


@functools.cache
def rendered() -> str:
    return render()


def spec() -> dict[str, Any]:
    """A fresh copy each call: a test may change what it reads."""
    document: dict[str, Any] = json.loads(rendered())
    return document
