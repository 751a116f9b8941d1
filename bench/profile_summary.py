"""Summarise a py-spy raw (collapsed stacks) profile: where the server's time goes.

    .venv/bin/python bench/profile_summary.py profile.txt [--top 40]

Prints the share of samples spent inside each of the project's own functions
(inclusive), and the share by leaf frame (exclusive), so a hot path's cost can be
attributed to the step that pays it.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def frames(stack: str) -> list[str]:
    out = []
    for part in stack.split(";"):
        match = FRAME.match(part.strip())
        if match is None:
            out.append(part.strip())
            continue
        path = match["file"]
        short = "/".join(path.split("/")[-2:])
        out.append(f"{match['func']} ({short})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--match", default="cyberscan|sqlalchemy|pymysql|socketio|engineio"
    )
    args = parser.parse_args()
    inclusive: Counter[str] = Counter()
    exclusive: Counter[str] = Counter()
    total = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        stack_frames = frames(stack)
        for frame in set(stack_frames):
            inclusive[frame] += n
        exclusive[stack_frames[-1]] += n
    pattern = re.compile(args.match)
    print(f"{total} samples")
    print("inclusive (matching --match):")
    shown = 0
    for frame, n in inclusive.most_common():
        if pattern.search(frame):
            print(f"  {100 * n / total:5.1f}%  {frame}")
            shown += 1
            if shown >= args.top:
                break
    print("exclusive (leaf frames):")
    for frame, n in exclusive.most_common(args.top // 2):
        print(f"  {100 * n / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
