"""Outgoing HTTP clients with one TLS context per process.

An ``httpx.Client`` builds a TLS context when it is made, loading the CA bundle: ~23 ms of CPU,
which a client made per call (a connector's request, a CLI command, a health poll) paid every
time, plain ``http://`` included. httpx lets clients share one context (``verify=``); it is
read-only once built, so sharing it between threads is safe.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification (its CA bundle), built once."""
    return httpx.create_ssl_context()


def client(**kwargs: Any) -> httpx.Client:
    """``httpx.Client(**kwargs)`` on the shared TLS context unless ``verify`` is given."""
    kwargs.setdefault("verify", tls_context())
    return httpx.Client(**kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    """``httpx.get`` on the shared TLS context."""
    with client(timeout=kwargs.pop("timeout", 5.0)) as http:
        return http.get(url, **kwargs)
