"""Probing local TCP ports."""

from __future__ import annotations

import contextlib
import socket


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on `host:port` and a server could bind it. Like the servers
    (uvicorn, asyncio), the probe sets SO_REUSEADDR: a port whose last connections linger in
    TIME_WAIT after its server stopped is free for the next run."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return not accepts_connections(host, port)


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel considers free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def accepts_connections(host: str, port: int, timeout_s: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout_s):
        return True
    return False
