"""Properties, units and the deposit accounts that receive their payments."""
