"""A plain Python client for Walmart's Marketplace (US, v3) seller API. Never imports Django."""
