"""portal: a self-hosted simulator of a rent-payment portal (RentTrack / Inosio side)."""
