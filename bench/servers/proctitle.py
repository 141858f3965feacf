"""A forked child's command line as ps and psutil show it: the fork servers' children (bench/servers/forkserver.py,
bench/run/locust_forkserver.py) would otherwise all read as their server, and the harness and tests find Locust
and apps by their command line.

It overwrites the argv strings the kernel reads /proc/self/cmdline from, as setproctitle does (a maintained
package for this, left for a later change): the server was started with spare bytes there (TITLE_ROOM), and the
title is written followed by a NUL and padding whose last byte is not NUL, so the kernel shows the title alone."""

from __future__ import annotations

import contextlib

TITLE_ROOM = 1024  # spare bytes a fork server's own argv carries, for its children's titles


def set_title(title: str) -> None:
    """Show `title` as this process's command line (Linux; elsewhere nothing happens)."""
    import ctypes

    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/stat", "rb") as fh:
            stat = fh.read()
        fields = stat[stat.rindex(b")") + 2:].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end: fields 48 and 49 of proc(5)
        room = end - start
        if room < 2:
            return
        text = title.encode()[: room - 2] + b"\0"
        ctypes.memmove(start, text + b" " * (room - len(text)), room)
