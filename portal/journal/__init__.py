"""The request journal (issue 20): every ``/v1/...`` request, per workspace, and WireMock-style
verification of what a client sent."""
