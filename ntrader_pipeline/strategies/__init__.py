"""Nautilus strategies, one config/strategy pair per module."""
