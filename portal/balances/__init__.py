"""Balance intake from accounting clients ("Send Balances" / "Synchronize with Server")."""
