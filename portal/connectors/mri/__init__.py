"""The MRI connector (issue 17; connectors.md §2): its client, import and ledger calls."""
