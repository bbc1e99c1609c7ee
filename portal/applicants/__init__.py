"""Applications and applicants: screened and decided in the portal; approved applicants reach
the accounting client and freeze once it accepts them (seed 004; domain.md §8.5)."""
