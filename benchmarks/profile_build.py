"""Where a rebuild's time goes, and what the build process holds when its workers fork.

    python benchmarks/profile_build.py SITE nochange [--top 25]   # site built before
    python benchmarks/profile_build.py SITE edit [--round 7]       # one sentence of one seed
    python benchmarks/profile_build.py SITE heap       # a cold build (moves build/ aside)

`nochange` and `edit` run the build in this process under cProfile (a rebuild renders its few
pages in this process: nothing is left out) and print the functions by their own time and by
cumulative time. `heap` runs a cold build under tracemalloc and takes a snapshot when the
pages are planned, just before the render workers fork: the Python objects every worker
inherits, by the line that allocated them. (tracemalloc slows the build about threefold;
its figures are sizes, not times.) Run it with this checkout on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench import clean, edit
from memory import rollup

from newsgen import build as build_module
from newsgen import publish
from newsgen.config import load_config


def run_build(site: Path) -> float:
    config = load_config(site, {"search": False})
    started = time.perf_counter()
    result = build_module.build(config, jobs=2)
    seconds = time.perf_counter() - started
    stages = ", ".join(f"{name} {s:.2f} s" for name, s in result.timings)
    print(f"build: {seconds:.2f} s ({stages}); {result.enriched} parsed, {result.written} written")
    return seconds


def profiled(site: Path, top: int) -> None:
    profile = cProfile.Profile()
    profile.enable()
    run_build(site)
    profile.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        text = out.getvalue()
        print(text[text.index("   ncalls") :])


def heap(site: Path, top: int) -> None:
    clean(site)
    taken: list[Any] = []
    write_site = publish.write_site

    def snapshot(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        taken.append(tracemalloc.take_snapshot())
        pss, rss = rollup(os.getpid())
        print(f"at the fork: this process PSS {pss / 1024:.0f} MB, RSS {rss / 1024:.0f} MB")
        return write_site(*args, **kwargs)

    publish.write_site = snapshot
    tracemalloc.start(1)
    run_build(site)
    tracemalloc.stop()
    stats = taken[0].statistics("lineno")
    total = sum(s.size for s in stats)
    print(f"Python objects alive when the workers fork: {total / 2**20:.0f} MB")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        name = "/".join(Path(frame.filename).parts[-2:])
        print(f"{stat.size / 2**20:8.1f} MB {stat.count:>10,} blocks  {name}:{frame.lineno}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("mode", choices=["nochange", "edit", "heap"])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--round", type=int, default=100)
    args = parser.parse_args()
    if args.mode == "heap":
        heap(args.site, args.top)
        return
    if args.mode == "edit":
        print(f"edited {edit(args.site, args.round)}")
    profiled(args.site, args.top)


if __name__ == "__main__":
    main()
