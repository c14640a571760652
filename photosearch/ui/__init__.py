"""The desktop app (Qt). Only this package imports Qt; it uses the core through photosearch.core.library."""
