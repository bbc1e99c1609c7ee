"""Reversals: voids, refunds, ACH returns and card chargebacks (domain.md §6)."""
