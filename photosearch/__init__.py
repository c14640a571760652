"""PhotoSearch: find your own photos by meaning, offline."""

__version__ = "0.1.0"
