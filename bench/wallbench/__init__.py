"""Helpers of bench/walls.py: the protocol walls (client.py) and the request threads' sampler (profile.py)."""
