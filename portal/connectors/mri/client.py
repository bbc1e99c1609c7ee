"""Calling MRI's ``api.asp`` (connectors.md §2.1-§2.3, §2.8) over HTTP with httpx.

Every call names its API in ``$api`` and its format in ``$format`` (XML by default, as RT sent
since 2015; JSON as ``mri_hook`` does) and authenticates with HTTP Basic, the user name being
``ClientID/Database/User/PartnerKey`` (§2.2). A GET reads every page: the XML root's
``NextPageLink`` attribute or the JSON ``nextLink``, whose query is sent again to the configured
URL, as RT did (§2.8). XML is parsed with entity expansion off (defusedxml).

What comes back as anything but a readable answer — a refused connection, a timeout, an HTTP
status other than 200, a body that is not the format asked for — is a ``TransportError``: the
caller may try again. MRI's own refusals are HTTP 200 records holding ``Error/Message`` (§2.6):
those are answers, returned as records with an ``Error`` key.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
import httpx
from defusedxml import DefusedXmlException

from portal.core import http

LEASE_DETAILS = "MRI_S-PMRM_ResidentLeaseDetailsByPropertyID"
PENDING_MOVE_INS = "MRI_S-PMRM_PendingMoveIns"
PAYMENT_DETAILS = "MRI_S-PMRM_PaymentDetailsByPropertyID"
#: The batch close: MRI's is unknown (connectors.md §4.6 GAP); this is the simulator's own API,
#: served by its reference MRI (docs/reference-mri.md, docs/decisions.md).
CLOSE_BATCH = "MRI_S-PMRM_CloseBatch"

DEFAULT_TIMEOUT = 10.0
#: A GET that keeps handing out links stops here (a server bug, not data).
MAX_PAGES = 10_000

#: A record: MRI's field names to their text (None for an empty or nil element); an error
#: record has ``Error`` = its message.
Record = dict[str, Any]


class TransportError(Exception):
    """No usable answer; ``str(exc)`` says what happened."""


@dataclass(frozen=True)
class Login:
    url: str
    username: str
    password: str
    format: str = "xml"
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def of(cls, connection: Mapping[str, Any], password: str | None) -> Login:
        parts = [str(connection.get(k) or "") for k in ("client_id", "database", "user")]
        parts.append(str(connection.get("partner_key") or ""))
        return cls(
            url=str(connection["url"]),
            username="/".join(parts),
            password=password or "",
            format=str(connection.get("format") or "xml"),
            timeout=float(connection.get("timeout_seconds") or DEFAULT_TIMEOUT),
        )


@dataclass(frozen=True)
class Exchange:
    """One POST: what was sent, what came back, and the answer's records."""

    request: str
    response: str
    records: list[Record]


def _client(login: Login) -> httpx.Client:
    return http.client(auth=(login.username, login.password), timeout=login.timeout)


def _call(client: httpx.Client, login: Login, request: httpx.Request) -> httpx.Response:
    try:
        response = client.send(request)
    except httpx.TimeoutException:
        raise TransportError(f"no answer within {login.timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise TransportError(f"could not reach {login.url}: {exc}") from None
    if response.status_code != 200:
        # RT treated any non-200 as a failure (§2.2).
        raise TransportError(f"HTTP {response.status_code}: {response.text[:300]}")
    return response


def get_all(login: Login, api: str, params: Mapping[str, str]) -> list[Record]:
    """Every record of a GET, page after page."""
    query: dict[str, str] = {"$api": api, "$format": login.format, **params}
    records: list[Record] = []
    seen: set[str] = set()
    with _client(login) as client:
        for _ in range(MAX_PAGES):
            request = client.build_request("GET", login.url, params=query)
            response = _call(client, login, request)
            page, link = parse(response.content, login.format)
            records.extend(page)
            if not link:
                return records
            if link in seen:
                raise TransportError(f"{api}: the next-page link repeats itself ({link})")
            seen.add(link)
            # RT: the link's query, re-sent to the configured URL (§2.8).
            query = dict(parse_qsl(urlsplit(link).query, keep_blank_values=True))
    raise TransportError(f"{api}: more than {MAX_PAGES} pages")


def post(login: Login, api: str, records: Sequence[Mapping[str, Any]]) -> Exchange:
    """POST records (one ``entry`` / ``value`` item each) and read the answer's records."""
    body = render(api, records, login.format)
    media = "application/json" if login.format == "json" else "application/xml"
    with _client(login) as client:
        request = client.build_request(
            "POST",
            login.url,
            params={"$api": api, "$format": login.format},
            content=body.encode(),
            headers={"Content-Type": media, "Accept": media},
        )
        response = _call(client, login, request)
    page, _link = parse(response.content, login.format)
    return Exchange(request=body, response=response.text, records=page)


def render(api: str, records: Sequence[Mapping[str, Any]], fmt: str) -> str:
    """RT's XML body (the root the lower-cased API name, one ``entry`` per record, the XML
    header left out, §2.6) or MH's JSON (``{"value": [...]}``). None is an empty element."""
    if fmt == "json":
        return json.dumps({"value": [dict(r) for r in records]})
    root = ET.Element(api.lower())
    for record in records:
        entry = ET.SubElement(root, "entry")
        for name, value in record.items():
            ET.SubElement(entry, name).text = None if value is None else str(value)
    return ET.tostring(root, encoding="unicode")


def parse(content: bytes, fmt: str) -> tuple[list[Record], str | None]:
    """An answer's records and its next-page link."""
    if fmt == "json":
        try:
            document = json.loads(content)
        except ValueError:
            raise TransportError(f"the answer is not JSON: {content[:200]!r}") from None
        if not isinstance(document, dict) or not isinstance(document.get("value"), list):
            raise TransportError(f"the answer has no value list: {content[:200]!r}")
        out: list[Record] = []
        for item in document["value"]:
            if not isinstance(item, dict):
                raise TransportError("a value item is not an object")
            error = item.get("Error")
            if isinstance(error, dict):
                item = {**item, "Error": str(error.get("Message") or "")}
            out.append(item)
        link = document.get("nextLink")
        return out, str(link) if link else None
    try:
        root = SafeET.fromstring(content)
    except (ParseError, DefusedXmlException) as exc:
        raise TransportError(f"the answer is not XML ({exc}): {content[:200]!r}") from None
    return [_entry(entry) for entry in root.findall("entry")], root.get("NextPageLink") or None


def _entry(entry: Element) -> Record:
    record: Record = {}
    for child in entry:
        if child.tag == "Error":
            record["Error"] = (child.findtext("Message") or "").strip()
        elif len(child):
            record[child.tag] = [_entry(sub) for sub in child.findall("entry")]
        else:
            text = child.text.strip() if child.text else ""
            record[child.tag] = text or None
    return record
