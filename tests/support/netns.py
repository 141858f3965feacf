"""Test hosts on this machine: network namespaces, each joined to the root namespace by a veth pair.

Namespace k gets 10.<net>.k.2, the root side of its pair 10.<net>.k.1, and a default route through it, so every
namespace reaches every root-side address (the master listens on namespace 1's). Needs root and `ip`;
`unavailable()` says why not, for a skip. Everything made is removed by `close()`, whatever failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20, check=check)


def unavailable() -> str | None:
    """Why namespaces cannot be made here (None: they can)."""
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"benchprobe{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


@dataclass
class Namespaces:
    count: int
    net: int = 211  # the second octet of every address
    tag: str = field(default_factory=lambda: str(os.getpid() % 100000))
    names: list[str] = field(default_factory=list)
    _links: list[str] = field(default_factory=list)

    def root_address(self, k: int) -> str:
        return f"10.{self.net}.{k}.1"

    def address(self, k: int) -> str:
        return f"10.{self.net}.{k}.2"

    def open(self) -> Namespaces:
        for k in range(1, self.count + 1):
            ns, outer, inner = f"bench{self.tag}n{k}", f"vb{self.tag}o{k}", f"vb{self.tag}i{k}"
            _ip("netns", "add", ns)
            self.names.append(ns)
            _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            self._links.append(outer)  # deleting one end deletes the pair
            _ip("link", "set", inner, "netns", ns)
            _ip("addr", "add", f"{self.root_address(k)}/24", "dev", outer)
            _ip("link", "set", outer, "up")
            for args in (("addr", "add", f"{self.address(k)}/24", "dev", inner), ("link", "set", inner, "up"),
                         ("link", "set", "lo", "up"), ("route", "add", "default", "via", self.root_address(k))):
                _ip("netns", "exec", ns, "ip", *args)
        return self

    def exec_argv(self, k: int, argv: list[str]) -> list[str]:
        """`argv` run inside namespace k."""
        return ["ip", "netns", "exec", self.names[k - 1], *argv]

    def close(self) -> None:
        for link in self._links:
            _ip("link", "del", link, check=False)
        for ns in self.names:
            _ip("netns", "del", ns, check=False)
        self._links.clear()
        self.names.clear()
