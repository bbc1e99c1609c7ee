"""The transactional outbox (issue 16): what the portal owes an accounting system's server,
written in the same transaction as the change it reports and sent after commit by
``portal.connectors``."""
