"""Name resolution for webhook endpoint checks."""

from __future__ import annotations

import socket


def resolve(host: str, port: int) -> list[str]:
    """Every IP address ``host`` resolves to (IPv4 and IPv6), as strings."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})
