"""The demo launcher's guard: stops the demo's process groups once the launcher is gone, however it went.

``scripts/demo.py`` starts this first (``python scripts/demo_guard.py FD``) with the read end of a pipe whose only
write end the launcher holds; every child of the demo runs in a process group of its own. Each line on the pipe
registers a group or forgets it:

- ``+PGID SIGNAL``: a group started (written by the child itself, before it runs its program), and the signal that
  stops it once the launcher is gone;
- ``-PGID``: a group the launcher has stopped (or reaped) itself.

End of file means the write end is closed: the launcher exited or was killed (the kernel closes a dead process's
files, SIGKILL included). The guard then sends each registered group its signal, gives the groups ``GRACE`` seconds
to be gone and SIGKILLs what is left of them. A launcher that stops normally stops its children itself and forgets
their groups first, so the guard then has nothing to do.

It runs in a session of its own (a terminal's Ctrl-C reaches only the launcher) and ignores SIGINT and SIGTERM, so
it outlives the launcher for the few seconds it needs. Only the standard library: it must start fast and cannot
fail on the project's imports.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

#: Seconds the groups get to stop on their signal before the guard SIGKILLs what is left of them.
GRACE = 5.0


def read_groups(fd: int) -> dict[int, int]:
    """Follow the launcher's lines on ``fd`` until end of file; return the groups still registered {pgid: signal}."""
    groups: dict[int, int] = {}
    pending = b""
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while chunk := pipe.read(4096):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                apply_line(groups, line.decode())
    return groups


def apply_line(groups: dict[int, int], line: str) -> None:
    """Register (``+PGID SIGNAL``) or forget (``-PGID``) one group; anything else is ignored."""
    words = line.split()
    if len(words) == 2 and words[0].startswith("+"):
        groups[int(words[0][1:])] = int(words[1])
    elif len(words) == 1 and words[0].startswith("-"):
        groups.pop(int(words[0][1:]), None)


def group_exists(pgid: int) -> bool:
    """Whether group ``pgid`` still has a process that is not a zombie.

    Zombies count as gone: their parent, the dead launcher, cannot reap them, and the init process that inherits them
    may take seconds to. Through ``/proc`` on Linux; elsewhere any process of the group, zombie or not.
    """
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):  # gone, or someone else's group now: not ours to wait for
            return False
        return True
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()  # after "pid (comm)": state, ppid, pgrp, ...
            except OSError:  # gone meanwhile
                continue
            if fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                return True
    return False


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # gone already
        os.killpg(pgid, sig)


def stop_groups(groups: dict[int, int], grace: float = GRACE) -> list[int]:
    """Send each group its signal, wait up to ``grace`` seconds for all to be gone; return those SIGKILLed after."""
    for pgid, sig in groups.items():
        signal_group(pgid, sig)
    deadline = time.monotonic() + grace
    while (left := [pgid for pgid in groups if group_exists(pgid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pgid in left:
        signal_group(pgid, signal.SIGKILL)
    return left


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    groups = read_groups(int(argv[1]))
    if not groups:
        return 0
    killed = stop_groups(groups)
    with contextlib.suppress(OSError):  # the launcher's terminal or log may be gone with it
        print(
            f"[demo guard] the launcher is gone: stopped process groups {sorted(groups)}"
            + (f" (SIGKILLed after {GRACE:g} s: {killed})" if killed else ""),
            file=sys.stderr,
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
