"""Campfire: a self-hostable, AI-first customer support platform."""

__version__ = "0.1.0"
