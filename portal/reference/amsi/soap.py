"""SOAP for the reference eSite (connectors.md §1.1, §1.2): the two services' WSDLs, reading a
request envelope and writing answers and faults.

Document/literal, namespace ``http://tempuri.org/``, SOAPAction ``http://tempuri.org/<Op>``;
SOAP 1.1 and 1.2 both accepted and answered in kind (§1.1: RT most likely sent 1.1). Every
operation takes ``UserID``, ``Password``, ``PortfolioName`` and, on Ledger, a mandatory
``preliminary`` int, then ``XMLData``, a string carrying the business document as CDATA or
escaped text (§1.2); it answers ``<Op>Response/<Op>Result``, one string holding an XML
document, normally escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, tostring
from xml.sax.saxutils import escape, quoteattr

from portal.reference.safexml import XmlError, local, namespace, parse

TNS = "http://tempuri.org/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
VERSIONS = {SOAP11: "1.1", SOAP12: "1.2"}
CONTENT_TYPES = {"1.1": "text/xml; charset=utf-8", "1.2": "application/soap+xml; charset=utf-8"}

#: The operations each service serves: the five RT used (§1.1); the others it declares are not
#: simulated (docs/reference-amsi.md).
SERVICES: dict[str, tuple[str, ...]] = {
    "Leasing": ("GetPropertyUnits", "GetPropertyResidents"),
    "Ledger": ("AddPayment", "ReturnPayment", "UpdateSettlementData"),
}
OPERATIONS = {op: service for service, ops in SERVICES.items() for op in ops}
LOGIN_FIELDS = ("UserID", "Password", "PortfolioName")


class SoapError(Exception):
    """The envelope cannot be served; answered with a SOAP Fault (Client/Sender)."""

    def __init__(self, message: str, version: str = "1.1") -> None:
        super().__init__(message)
        self.message = message
        self.version = version


@dataclass
class SoapRequest:
    version: str
    operation: str
    fields: dict[str, str | None]
    """Every child of the operation element by local name (``XMLData`` as its text)."""
    present: set[str]


def read_request(body: bytes, soap_action: str | None) -> SoapRequest:
    try:
        envelope = parse(body)
    except XmlError as exc:
        raise SoapError(f"the request is not a SOAP envelope: {exc}") from None
    version = VERSIONS.get(namespace(envelope.tag))
    if local(envelope.tag) != "Envelope" or version is None:
        raise SoapError("the root element is not a SOAP 1.1 or 1.2 Envelope")
    body_element = next((c for c in envelope if local(c.tag) == "Body"), None)
    call = next(iter(body_element), None) if body_element is not None else None
    if call is None:
        raise SoapError("the SOAP Body holds no operation", version)
    operation = local(call.tag)
    if namespace(call.tag) != TNS:
        raise SoapError(f"<{operation}> is not in the namespace {TNS}", version)
    if soap_action and soap_action.strip('"') not in ("", f"{TNS}{operation}"):
        raise SoapError(
            f"SOAPAction {soap_action} does not match the body's operation {operation}", version
        )
    fields: dict[str, str | None] = {}
    for child in call:
        name = local(child.tag)
        if name == "XMLData" and len(child):
            # A client that put the document in as elements rather than text (§1.2 lenience).
            fields[name] = tostring(child[0], encoding="unicode")
        else:
            fields[name] = child.text
    return SoapRequest(version, operation, fields, set(fields))


def soap_action_of(content_type: str, header: str | None) -> str | None:
    """SOAP 1.1 sends the action as a header, SOAP 1.2 as a ``action=`` media-type parameter."""
    if header is not None:
        return header
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "action":
            return value.strip('"')
    return None


def _envelope(version: str, body: str) -> bytes:
    ns = SOAP11 if version == "1.1" else SOAP12
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def answer(version: str, operation: str, result: str, *, double_escape: bool = False) -> bytes:
    """``<Op>Response/<Op>Result`` holding ``result``, escaped once (or twice: §1.2's suspected
    AMSI habit, behind a switch)."""
    text = escape(escape(result) if double_escape else result)
    return _envelope(
        version,
        f'<{operation}Response xmlns="{TNS}"><{operation}Result>{text}</{operation}Result>'
        f"</{operation}Response>",
    )


def fault(version: str, message: str, *, client: bool) -> bytes:
    text = escape(message)
    if version == "1.1":
        code = "soap:Client" if client else "soap:Server"
        body = (
            f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring>"
            "</soap:Fault>"
        )
    else:
        code = "soap:Sender" if client else "soap:Receiver"
        body = (
            f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="en">{text}</soap:Text></soap:Reason></soap:Fault>'
        )
    return _envelope(version, body)


def result_text(element: Element) -> str:
    return tostring(element, encoding="unicode")


# --- WSDL (§1.1: GET …/leasing.asmx?WSDL) ---------------------------------------------------


def _field(name: str, xsd_type: str = "s:string", min_occurs: int = 0) -> str:
    return f'<s:element minOccurs="{min_occurs}" maxOccurs="1" name="{name}" type="{xsd_type}"/>'


def wsdl(service: str, location: str) -> str:
    """The service's WSDL in the .asmx form, with ``location`` as the endpoint."""
    ops = SERVICES[service]
    ledger = service == "Ledger"
    elements: list[str] = []
    messages: list[str] = []
    port_ops: list[str] = []
    soap11_ops: list[str] = []
    soap12_ops: list[str] = []
    for op in ops:
        params = [_field(name) for name in LOGIN_FIELDS]
        if ledger:
            # Mandatory on every Ledger operation (§1.2, VERIFIED from the WSDL).
            params.append(_field("preliminary", "s:int", 1))
        params.append(_field("XMLData"))
        elements.append(
            f'<s:element name="{op}"><s:complexType><s:sequence>{"".join(params)}'
            f"</s:sequence></s:complexType></s:element>"
            f'<s:element name="{op}Response"><s:complexType><s:sequence>'
            f"{_field(op + 'Result')}</s:sequence></s:complexType></s:element>"
        )
        messages.append(
            f'<wsdl:message name="{op}SoapIn"><wsdl:part name="parameters" element="tns:{op}"/>'
            f'</wsdl:message><wsdl:message name="{op}SoapOut">'
            f'<wsdl:part name="parameters" element="tns:{op}Response"/></wsdl:message>'
        )
        port_ops.append(
            f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}SoapIn"/>'
            f'<wsdl:output message="tns:{op}SoapOut"/></wsdl:operation>'
        )
        for prefix, target in (("soap", soap11_ops), ("soap12", soap12_ops)):
            target.append(
                f'<wsdl:operation name="{op}"><{prefix}:operation soapAction="{TNS}{op}" '
                f'style="document"/><wsdl:input><{prefix}:body use="literal"/></wsdl:input>'
                f'<wsdl:output><{prefix}:body use="literal"/></wsdl:output></wsdl:operation>'
            )
    transport = '<{p}:binding transport="http://schemas.xmlsoap.org/soap/http"/>'
    where = quoteattr(location)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<wsdl:definitions xmlns:s="http://www.w3.org/2001/XMLSchema" '
        'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
        'xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" '
        f'xmlns:tns="{TNS}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        f'targetNamespace="{TNS}">'
        f'<wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="{TNS}">'
        f"{''.join(elements)}</s:schema></wsdl:types>"
        f"{''.join(messages)}"
        f'<wsdl:portType name="{service}Soap">{"".join(port_ops)}</wsdl:portType>'
        f'<wsdl:binding name="{service}Soap" type="tns:{service}Soap">'
        f"{transport.format(p='soap')}{''.join(soap11_ops)}</wsdl:binding>"
        f'<wsdl:binding name="{service}Soap12" type="tns:{service}Soap">'
        f"{transport.format(p='soap12')}{''.join(soap12_ops)}</wsdl:binding>"
        f'<wsdl:service name="{service}">'
        f'<wsdl:port name="{service}Soap" binding="tns:{service}Soap">'
        f"<soap:address location={where}/></wsdl:port>"
        f'<wsdl:port name="{service}Soap12" binding="tns:{service}Soap12">'
        f"<soap12:address location={where}/></wsdl:port>"
        "</wsdl:service></wsdl:definitions>\n"
    )
