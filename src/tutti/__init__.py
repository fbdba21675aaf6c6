"""Tutti: your music listening history back, merged across services, kept on your own machine."""

__version__ = "0.1.0"
