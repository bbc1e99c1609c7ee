"""XML from outside, parsed safely (connectors.md §3.1, issue 16).

Every document a reference server receives (SOAP envelopes, XMLData payloads, seeding
documents) goes through ``parse``: a DTD is refused outright, so no entity is ever declared,
let alone expanded (a billion-laughs body is refused at its ``<!DOCTYPE``, before any
expansion), and nothing is fetched over the network. SOAP forbids DTDs anyway (SOAP 1.1 §3,
SOAP 1.2 part 1 §5).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException, DTDForbidden

REFUSED_DTD = (
    "the document has a DTD (<!DOCTYPE …>): DTDs and entity declarations are refused "
    "(no entity is expanded)"
)


class XmlError(ValueError):
    """The bytes are not a well-formed, DTD-free XML document; ``str(exc)`` says why."""


def parse(data: bytes | str) -> Element:
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=True)
    except DTDForbidden:
        raise XmlError(REFUSED_DTD) from None
    except DefusedXmlException as exc:
        raise XmlError(f"refused: {exc}") from None
    except ParseError as exc:
        raise XmlError(f"not well-formed XML ({exc})") from None
    return root


def local(tag: str) -> str:
    """``{namespace}Name`` -> ``Name``."""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
