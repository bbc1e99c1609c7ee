"""Principals: the operator key, landlord users and sessions, integrations and their tokens."""
