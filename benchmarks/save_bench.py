"""Rebuilds after one seed is saved in place or by renaming a new file over it (what most
editors do, and what changes the seeds' folder), each followed at once by
`newsgen build --no-search`; prints the wall time of each. Run it from a checkout (or with
one on PYTHONPATH) on a site built before, e.g. one of bench.py's:

    python benchmarks/save_bench.py /tmp/newsgen-bench/100000 --rounds 3

The seed is put back as it was at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path


def build(site: Path) -> float:
    os.sync()  # the writeback of the last build is not this one's to pay
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "newsgen", "build", "--no-search"],
        cwd=site,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def save(seed: Path, text: str, *, renamed: bool) -> None:
    if not renamed:
        seed.write_text(text, encoding="utf-8")
        return
    new = seed.with_name(f".{seed.name}.swp")  # hidden: never a source
    new.write_text(text, encoding="utf-8")
    os.replace(new, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    names = sorted(os.listdir(args.site / "seeds"))
    seed = args.site / "seeds" / names[len(names) // 2]
    original = seed.read_text(encoding="utf-8")
    build(args.site)
    build(args.site)
    try:
        for round_ in range(args.rounds):
            for how in ("in place", "renamed", "no change"):
                if how != "no change":
                    text = original.replace("\n", f" Round {round_}, {how}.\n", 1)
                    save(seed, text, renamed=how == "renamed")
                print(f"round {round_}: {how:9} {build(args.site):.2f} s", flush=True)
    finally:
        seed.write_text(original, encoding="utf-8")
    print(f"put back: {build(args.site):.2f} s")


if __name__ == "__main__":
    main()
