"""Satisfaction ratings: one 1-to-5 rating per conversation, set by its customer."""
