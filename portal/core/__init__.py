"""The kernel: settings, time, money, IDs, errors, the database and the job machinery that every
feature builds on (architecture.md §2). It never imports a feature (import-linter)."""
