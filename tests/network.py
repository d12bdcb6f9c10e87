"""A pretend network for callback URL tests, so that none of them depends on real DNS.

Names resolve to what a test says (and may answer differently the second time, as a rebinding
attacker's DNS would); a "public" address and port can be routed to a loopback server. Any other
name does not resolve, and a connection to any address that is neither routed nor loopback is
refused: nothing leaves the machine.
"""

import ipaddress
import socket

import pytest


class FakeNetwork:
    """Patches name resolution and connections for one test; ``lookups`` lists names asked."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.routes: dict[tuple[str, int], tuple[str, int]] = {}
        self.lookups: list[str] = []
        real_getaddrinfo = socket.getaddrinfo
        real_connect = socket.socket.connect

        def getaddrinfo(host, port, *args, **kwargs):
            if isinstance(host, bytes):
                host = host.decode()
            if host is not None and not _is_ip(host):
                self.lookups.append(host)
            if host in self.answers:
                answers = self.answers[host]
                addresses = answers.pop(0) if len(answers) > 1 else answers[0]
                number = int(port or 0)
                return [
                    (
                        socket.AF_INET6 if ":" in address else socket.AF_INET,
                        socket.SOCK_STREAM,
                        socket.IPPROTO_TCP,
                        "",
                        (address, number, 0, 0) if ":" in address else (address, number),
                    )
                    for address in addresses
                ]
            if host is None or host == "localhost" or _is_ip(host):  # no DNS needed
                return real_getaddrinfo(host, port, *args, **kwargs)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

        def connect(sock, address):
            if isinstance(address, tuple):
                routed = self.routes.get((address[0], address[1]))
                if routed is not None:
                    address = routed
                elif not ipaddress.ip_address(address[0].split("%")[0]).is_loopback:
                    raise ConnectionRefusedError(f"the test network does not reach {address[0]}")
            return real_connect(sock, address)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)

    def name(self, host: str, *answers: list[str]) -> None:
        """Make ``host`` resolve to each answer in turn (the last one from then on)."""
        self.answers[host] = [list(answer) for answer in answers]

    def route(self, address: str, port: int, *, to: tuple[str, int]) -> None:
        """Connections to ``address:port`` reach the loopback server at ``to`` instead."""
        self.routes[(address, port)] = to


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True
