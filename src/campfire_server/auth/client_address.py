"""The client's IP address, believing ``X-Forwarded-For`` only from trusted proxies."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=32)
def parse_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(scope: dict[str, Any], trusted_proxies: Iterable[str]) -> str:
    """Return the address of the client that sent the request in ``scope``.

    The TCP peer is the client unless it is a trusted proxy. Then the
    ``X-Forwarded-For`` entries are read from the right, skipping trusted
    proxies, and the first untrusted entry is the client. Entries left of it
    were written by the client itself and are never believed.
    """
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    networks = parse_networks(tuple(trusted_proxies))
    if not networks or not _is_trusted(peer, networks):
        return peer
    forwarded: list[str] = []
    for key, value in scope.get("headers", ()):
        if key == b"x-forwarded-for":
            forwarded.extend(part.strip() for part in value.decode("latin-1").split(","))
    for entry in reversed(forwarded):
        if not entry:
            continue
        if not _is_trusted(entry, networks):
            try:
                return str(ipaddress.ip_address(entry))
            except ValueError:
                # A malformed entry added by a trusted proxy's client; stop trusting here.
                return peer
    return forwarded[0] if forwarded and forwarded[0] else peer
