"""Residents and leases: how people arrive, are approved, mapped to the ledger, and leave."""
