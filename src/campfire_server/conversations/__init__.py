"""Support conversations, their messages and their status rules."""
