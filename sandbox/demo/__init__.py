"""Demo data for the sandbox shop: an invented catalogue, shoppers and their activity."""
