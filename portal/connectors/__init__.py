"""Connectors: the portal calling an accounting system's own server (issue 16: AMSI eSite;
issue 17: MRI). Import of residents and leases, and the delivery of the outbox
(``portal.outbox``) by a worker, over real HTTP."""
