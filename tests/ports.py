"""Free ports for servers a test starts side by side."""

from __future__ import annotations

from runtime.devserver import free_port


def distinct_free_ports(count: int) -> list[int]:
    """`count` free ports, all different: two calls of free_port() can return the same one
    (it is free again once probed), and two servers cannot listen on one port (`amity up`
    rightly refuses ports that collide)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports
