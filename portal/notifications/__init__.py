"""The mailbox: every e-mail the portal would have sent (domain.md §9.2)."""
