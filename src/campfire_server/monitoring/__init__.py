"""Prometheus metrics that every layer increments, and the probes that read them."""
