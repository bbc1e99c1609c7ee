"""The accounting client's receipt-batch API: what Landlord 12's "Load Receipts from RentTrack /
Inosio Server" dialog needs (seed 000 §E, seed 004 §D; domain.md §8)."""
