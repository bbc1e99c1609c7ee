"""What a person reads about the HTTP API: the documentation pages (``/``, ``/docs``,
``/redoc``, served from an installed package, no CDN) and the OpenAPI document's additions
(per-operation error codes, one security scheme per principal, request examples), applied when
the document is generated (issue 18)."""
