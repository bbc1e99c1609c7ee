"""Work orders: entered in the portal, retrieved read-only by accounting clients (seed 004 §E;
domain.md §8.4)."""
