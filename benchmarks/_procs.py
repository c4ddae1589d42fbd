"""What the load benchmarks read off the machine: a free range of loopback ports, a process's
tree, and the CPU and peak memory its processes used (Linux ``/proc``)."""

from __future__ import annotations

import contextlib
import os
import random
import socket
from collections import defaultdict
from pathlib import Path

SPAN = 45
"""Ports a stack takes from its base port (the embedded layout's offsets fit under it)."""


def free_base() -> int:
    """The first port of ``SPAN`` consecutive free ports on loopback."""
    # Below the kernel's ephemeral range: an outgoing connection of a process started earlier (to
    # PostgreSQL, NATS, a peer) may take any port there between this check and the bind.
    low, high = _ephemeral_range()
    ranges = [(1024 + 97 * 10, low - SPAN), (high + 1, 65535 - SPAN)]
    candidates = [base for first, last in ranges for base in range(first, last, 97)]
    # From a random start: two benchmark runs at once must not both take the first free range.
    start = random.randrange(len(candidates))
    bases = candidates[start:] + candidates[:start]
    for base in bases:
        socks = []
        try:
            for port in range(base, base + SPAN):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                socks.append(sock)
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise SystemExit("no free port range on loopback")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children[ppid].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children[current])
    return found


def peak_rss_mb(pids: list[int]) -> float:
    """The peak resident memory of ``pids`` together, in MB."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds ``pids`` have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / ticks


def worker_group(pid: int) -> str | None:
    """The group of services a child of ``switchboard up --workers`` serves, "zygote" for the
    process that forks them, or None for any other process. The children are forks of the zygote,
    so all share its command line; each names itself after its group (``/proc/<pid>/comm``)."""
    with contextlib.suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"orchestrator.workers.zygote" in argv:
            return Path(f"/proc/{pid}/comm").read_text().strip()
    return None


def cpu_by_process(root: int) -> dict[str, float]:
    """CPU seconds of ``root`` ("up") and of its descendants, added up by the worker group each
    serves ("other" for a process that serves none)."""
    spent: dict[str, float] = {}
    for pid in tree(root):
        name = "up" if pid == root else worker_group(pid) or "other"
        spent[name] = spent.get(name, 0.0) + cpu_seconds([pid])
    return spent
