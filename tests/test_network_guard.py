"""The test suite itself: nothing leaves the machine."""

from __future__ import annotations

import pytest


def test_network_guard_refuses_the_outside_world() -> None:
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(AssertionError, match="loopback"):
            sock.connect(("192.0.2.1", 443))
    finally:
        sock.close()
