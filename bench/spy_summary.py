"""Summarize py-spy's collapsed stacks (`--format raw`): the share of samples per thread,
per function including what it calls, and per innermost frame.

    python bench/spy_summary.py server.txt [--top 40] [--thread MainThread]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter


def function(frame: str) -> str:
    """`name (path/to/file.py:12)` -> `name (file.py)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1].split(':')[0]})" if where else name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="py-spy record --format raw output")
    parser.add_argument("--top", type=int, default=40, help="rows per section")
    parser.add_argument("--thread", help="only threads whose name contains this")
    args = parser.parse_args()
    threads: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    with open(args.file) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            frames = stack.split(";")
            thread = "(threads not recorded)"
            if frames[0].startswith("thread ("):
                thread = frames[0].partition("): ")[2] or "(unnamed)"
                frames = frames[1:]
            if args.thread and args.thread not in thread:
                continue
            n = int(count)
            total += n
            threads[re.sub(r"-\d+$", "-N", thread)] += n
            for name in {function(f) for f in frames}:
                inclusive[name] += n
            if frames:
                leaf[function(frames[-1])] += n
    if not total:
        print("no samples")
        return 1
    for title, counter in (("threads", threads), ("inclusive", inclusive), ("innermost", leaf)):
        print(f"== {title} (share of {total} samples)")
        for name, n in counter.most_common(args.top):
            print(f"{n / total:6.1%}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
