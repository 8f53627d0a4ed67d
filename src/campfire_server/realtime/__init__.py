"""Realtime WebSocket API: protocol, hub, brokers and the gateway."""
