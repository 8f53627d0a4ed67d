"""Agents, skill-based routing of handoffs, the queue and its wait estimates."""
