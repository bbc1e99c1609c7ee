"""Calling an AMSI eSite over SOAP (connectors.md §1.1-§1.2), with zeep: the client is built
from the two WSDLs the eSite publishes (``{url}/leasing.asmx?WSDL``, ``{url}/ledger.asmx?WSDL``),
never from hand-built envelopes (issue 16).

Every call sends the login fields (``UserID``, ``Password``, ``PortfolioName``; Ledger adds
``preliminary`` = 0, as RT always did) and the business document as the ``XMLData`` string. The
answer is ``<Op>Result``: one string holding an XML document, parsed here with entity expansion
off (defusedxml). What comes back as anything else — a refused connection, a timeout, an HTTP
error, a SOAP Fault, a body or result that is not XML — is a ``TransportError``: the caller may
try again; a well-formed result is the vendor's answer, whatever its ``ErrorCode``.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
import requests
import zeep
import zeep.exceptions
from defusedxml import DefusedXmlException
from zeep.transports import Transport

#: Seconds a call may take before it counts as a transport error (the eSite may have done the
#: work: connectors.md §3.1 "commit, then hang"). A connection may set ``timeout_seconds``.
DEFAULT_TIMEOUT = 10.0

LEASING = "leasing"
LEDGER = "ledger"


class TransportError(Exception):
    """No usable answer; ``str(exc)`` says what happened."""


@dataclass(frozen=True)
class Login:
    url: str
    portfolio: str
    user_id: str
    password: str
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def of(cls, connection: dict[str, Any], password: str | None) -> Login:
        return cls(
            url=str(connection["url"]).rstrip("/"),
            portfolio=str(connection.get("portfolio") or ""),
            user_id=str(connection.get("user_id") or ""),
            password=password or "",
            timeout=float(connection.get("timeout_seconds") or DEFAULT_TIMEOUT),
        )


@dataclass(frozen=True)
class Answer:
    """A result document and its text, as received."""

    root: Element
    text: str


# zeep clients are built once per WSDL (parsing it is the expensive part) and thread: a
# ``requests`` session is not meant to be shared between threads.
_local = threading.local()


def _client(login: Login, service: str) -> zeep.Client:
    cache: dict[tuple[str, str, float], zeep.Client] = getattr(_local, "clients", None) or {}
    _local.clients = cache
    key = (login.url, service, login.timeout)
    if key not in cache:
        transport = Transport(timeout=login.timeout, operation_timeout=login.timeout)
        try:
            cache[key] = zeep.Client(f"{login.url}/{service}.asmx?WSDL", transport=transport)
        except (requests.RequestException, zeep.exceptions.Error, SyntaxError, OSError) as exc:
            raise TransportError(f"the {service} WSDL could not be read: {_say(exc)}") from None
    return cache[key]


def forget_clients() -> None:
    """Drop this thread's clients (an eSite restarted on another port in a test)."""
    _local.clients = {}


def _say(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def call(login: Login, service: str, operation: str, xml_data: str) -> Answer:
    """One SOAP call; the parsed ``<Op>Result`` document."""
    client = _client(login, service)
    fields: dict[str, Any] = {
        "UserID": login.user_id,
        "Password": login.password,
        "PortfolioName": login.portfolio,
    }
    if service == LEDGER:
        fields["preliminary"] = 0  # RT always sent 0 (connectors.md §1.2)
    try:
        result = getattr(client.service, operation)(**fields, XMLData=xml_data)
    except zeep.exceptions.Fault as exc:
        raise TransportError(f"SOAP Fault: {_say(exc)}") from None
    except requests.Timeout:
        raise TransportError(f"no answer within {login.timeout:g} s") from None
    except requests.ConnectionError as exc:
        raise TransportError(f"connection failed: {_say(exc)}") from None
    except zeep.exceptions.TransportError as exc:
        raise TransportError(f"HTTP {exc.status_code}: {_say(exc)}") from None
    except (requests.RequestException, zeep.exceptions.Error, SyntaxError, OSError) as exc:
        raise TransportError(f"unusable answer: {_say(exc)}") from None
    if not isinstance(result, str) or not result.strip():
        raise TransportError(f"{operation}Result is empty")
    return parse_result(result)


def parse_result(text: str) -> Answer:
    """The result string as a document. RT's Leasing client unescaped ``&lt;``/``&gt;`` left
    over in it (AMSI may escape twice, connectors.md §1.2): a result that reads as escaped
    markup is unescaped once more."""
    body = text.strip()
    if body.startswith("&lt;"):
        body = html.unescape(body)
    try:
        root: Element = SafeET.fromstring(body.encode("utf-8"), forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise TransportError(f"the result is not XML: {_say(exc)}") from None
    return Answer(root=root, text=text)


def first(root: Element, name: str) -> Element | None:
    """The first element called ``name`` anywhere in the document (root included)."""
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == name:
            return element
    return None


def error_of(root: Element) -> tuple[int, str] | None:
    """The vendor's ``ErrorCode`` and ``ErrorDescription``, when the document carries one:
    Ledger's per-record children or Leasing's ``InternetTrafficResponse/Error``."""
    code = first(root, "ErrorCode")
    if code is None:
        return None
    description = first(root, "ErrorDescription")
    try:
        number = int((code.text or "").strip())
    except ValueError:
        number = -1
    return number, (description.text or "").strip() if description is not None else ""
