"""The benchmark's worker process: `compute_metrics` for every organization, then its own
peak resident set (VmHWM) on the last line.

VmHWM belongs to this process's address space alone. `ru_maxrss` (getrusage, wait4) would
not do: Linux carries it across exec, so a child forked from a big parent reports the
parent's size.

    python -m bench.worker
"""

from __future__ import annotations

import re
from pathlib import Path


def peak_rss_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1))


def main() -> None:
    from bench.generate import setup_django

    setup_django()
    from django.core.management import call_command

    call_command("compute_metrics")
    print(f"VmHWM {peak_rss_kib()} kB", flush=True)


if __name__ == "__main__":
    main()
