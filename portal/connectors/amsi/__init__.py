"""The AMSI eSite connector (connectors.md §1): a SOAP client built from eSite's WSDLs (zeep),
the import of units and residents, and the Ledger calls that report payments."""
