"""Summarise py-spy ``--format raw`` (collapsed stacks) files written by ``bench/delivery.py --profile``.

    python bench/delivery_profile.py DIR/steady.txt [--top 30] [--thread MainThread] [--match TEXT]

Prints, per thread, the share of samples, then the functions with the most *inclusive*
samples (the function is anywhere on the stack) and the most *self* samples (it is the
innermost frame). ``--match`` keeps only stacks containing TEXT. py-spy samples the
process whether it runs or waits, so "idle" (the event loop in epoll) is shown too.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"^(.*) (\d+)$")
_FRAME = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")


def load(path: Path) -> list[tuple[list[str], int]]:
    out = []
    for line in path.read_text().splitlines():
        m = _LINE.match(line)
        if m:
            out.append((m[1].split(";"), int(m[2])))
    return out


def func(frame: str) -> str:
    m = _FRAME.match(frame)
    return f"{m[1]} ({m[2]})" if m else frame


_IDLE_LEAVES = ("EpollSelector.select", "_worker (concurrent/futures/thread.py)",
                "Condition.wait", "Semaphore.acquire", "_connection_worker_thread (aiosqlite/core.py)")


def thread_name(stack: list[str]) -> str:
    """py-spy --threads puts ``thread (TID): NAME`` first."""
    head = stack[0]
    return head.split(": ", 1)[1] if head.startswith("thread (") and ": " in head else head


def idle(stack: list[str]) -> bool:
    """The thread was waiting (epoll, an empty executor queue, aiosqlite's queue)."""
    return any(stack[-1].startswith(leaf) or func(stack[-1]) == leaf for leaf in _IDLE_LEAVES)


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("file", type=Path)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--thread", help="only this thread (e.g. MainThread)")
    p.add_argument("--match", help="only stacks containing this text")
    p.add_argument("--busy", action="store_true", help="drop samples where the thread was waiting")
    args = p.parse_args()
    rows = load(args.file)
    total = sum(n for _, n in rows)
    threads: Counter[str] = Counter()
    for stack, n in rows:
        threads[thread_name(stack)] += n
    print(f"{args.file}: {total} samples")
    for name, n in threads.most_common():
        print(f"  thread {name:<40} {n:>7} {100 * n / total:5.1f}%")
    idle_n = sum(n for s, n in rows if idle(s))
    print(f"  waiting (epoll / empty queues): {idle_n} {100 * idle_n / max(total, 1):.1f}%")
    rows = [(s, n) for s, n in rows if (not args.thread or thread_name(s).startswith(args.thread))
            and (not args.match or any(args.match in f for f in s))
            and not (args.busy and idle(s))]
    sub = sum(n for _, n in rows)
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    for stack, n in rows:
        frames = [func(f) for f in stack[1:]]
        for f in set(frames):
            inclusive[f] += n
        if frames:
            self_[frames[-1]] += n
    print(f"\nselected: {sub} samples ({100 * sub / max(total, 1):.1f}%)")
    print("\ntop inclusive (% of selected):")
    for f, n in inclusive.most_common(args.top):
        print(f"  {100 * n / sub:5.1f}%  {f}")
    print("\ntop self (% of selected):")
    for f, n in self_.most_common(args.top):
        print(f"  {100 * n / sub:5.1f}%  {f}")


if __name__ == "__main__":
    main()
