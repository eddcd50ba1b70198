"""Search indexing at scale: full indexing, the update after one edit, and Pagefind's own CLI.

Builds a site from scratch (output and cache removed), then appends a sentence to one seed and
builds again. Prints one JSON line per step: wall seconds of the build and of the indexing in it,
index size, shards indexed, and the peak RSS of this process and of the largest child (the
Pagefind service). Corpora come from benchmarks/corpus.py (deterministic, real vocabulary):

    python benchmarks/corpus.py 10000 /tmp/corpus-10k
    python benchmarks/search_bench.py /tmp/corpus-10k            # shards (what newsgen does)
    python benchmarks/search_bench.py /tmp/corpus-10k --single   # one index per language
    python benchmarks/search_bench.py /tmp/corpus-10k --cli      # also `python -m pagefind`

Run it under `/usr/bin/time -v` for the whole process' figures. Machines are shared: quote
medians of several runs and compare approaches within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from pagefind_bin_extended import get_executable

from newsgen import search
from newsgen.build import CACHE_DIR, BuildResult, build
from newsgen.config import load_config

PEAKS: list[int] = []


def _record_peak(exit: Callable[..., None]) -> Callable[..., None]:
    """Wraps PagefindService.__exit__: the service's own peak RSS (VmHWM, in kB) is read
    from /proc before it ends (ru_maxrss of a child counts the parent's pages before exec)."""

    def wrapped(service: search.PagefindService, *args: object) -> None:
        status = Path(f"/proc/{service.process.pid}/status").read_text(encoding="utf-8")
        PEAKS.extend(int(line.split()[1]) for line in status.splitlines() if "VmHWM" in line)
        exit(service, *args)

    return wrapped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--single", action="store_true", help="one shard per language")
    parser.add_argument("--cli", action="store_true", help="also time Pagefind's CLI")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    search.PagefindService.__exit__ = _record_peak(search.PagefindService.__exit__)  # type: ignore[method-assign]
    if args.single:
        search.SHARD_SIZE = 10**9
    config = load_config(args.site)
    shutil.rmtree(config.output_dir, ignore_errors=True)
    shutil.rmtree(args.site / CACHE_DIR, ignore_errors=True)
    report("full", build(config, jobs=args.jobs))
    PEAKS.clear()
    edit_one(args.site / config.seeds)
    report("one edit", build(config, jobs=args.jobs))
    if args.cli:
        pagefind_cli(config.output_dir)
    return 0


def edit_one(seeds: Path) -> None:
    first = min(seeds.glob("*.txt"))
    with first.open("a", encoding="utf-8") as out:
        out.write(f"\nUna frase aggiunta alle {time.time():.0f} per la prova.\n")


def report(step: str, result: BuildResult) -> None:
    index = result.search
    assert index is not None
    print(
        json.dumps(
            {
                "step": step,
                "articles": result.articles,
                "build_s": round(result.seconds, 2),
                "index_s": round(index.seconds, 2),
                "rest_s": round(result.seconds - index.seconds, 2),
                "shards": index.shards,
                "indexed": index.indexed,
                "records": index.records,
                "index_mb": round(index.bytes / 1e6, 1),
                "self_peak_mb": _peak_mb(resource.RUSAGE_SELF),
                "pagefind_peak_mb": round(max(PEAKS, default=0) / 1024),
            }
        ),
        flush=True,
    )


def pagefind_cli(output: Path) -> None:
    """Pagefind crawling the written HTML, as sites usually run it (output elsewhere)."""
    target = output.parent / "pagefind-cli"
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    command = [str(get_executable()), "--site", str(output), "--output-path", str(target)]
    timed = subprocess.run(
        ["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=True
    )
    peak_kb = next(
        int(line.split(":")[1])
        for line in timed.stderr.splitlines()
        if "Maximum resident set size" in line
    )
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    print(
        json.dumps(
            {
                "step": "pagefind cli",
                "index_s": round(time.perf_counter() - started, 2),
                "index_mb": round(size / 1e6, 1),
                "pagefind_peak_mb": round(peak_kb / 1024),
            }
        ),
        flush=True,
    )


def _peak_mb(who: int) -> int:
    return round(resource.getrusage(who).ru_maxrss / 1024)


if __name__ == "__main__":
    raise SystemExit(main())
