"""Benchmark newsgen on generated corpora: cold build, no-change rebuild, one-edit rebuild,
peak memory. Each figure is the median of several runs of the real command line, measured
with /usr/bin/time -v (wall clock and the peak resident memory of the largest process).

    python benchmarks/bench.py 1000 10000 [--runs 3] [--no-search] [--images] [--out results.md]

--images gives every article two images in the site (480 × 320 JPEGs, put in the media store
by `newsgen images fetch` once, when the corpus is made): each build publishes their variants.

--no-search measures the site without its search index, like for like with Hugo.

Corpora are generated once into /tmp/newsgen-bench/<N> (see corpus.py) and reused.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from corpus import generate, with_images

WORK = Path(tempfile.gettempdir()) / "newsgen-bench"
# Bytecode as an installed newsgen has it (pip compiles it on install): where the environment
# sets PYTHONDONTWRITEBYTECODE, every run would compile newsgen's modules again (0.1-0.2 s).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONHASHSEED"] = "0"
NEWSGEN = [sys.executable, "-m", "newsgen"]


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float


def timed(args: list[str], cwd: Path) -> Run:
    """Run a command under /usr/bin/time -v; fail loudly if it fails. Prints the stage
    timings a --verbose build reports. The files written before are flushed to the disk
    first, so that no run pays for the writeback of the one before (a cold build writes
    160 MB at 10k; the kernel writes them out about 30 s later, in the middle of the next
    build)."""
    os.sync()
    result = subprocess.run(
        ["/usr/bin/time", "-v", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=ENV,
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    stages = re.search(r"^Stages: .*$", result.stderr, re.MULTILINE)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    assert wall and peak, result.stderr
    hours, minutes, seconds = int(wall[1] or 0), int(wall[2]), float(wall[3])
    run = Run(seconds=hours * 3600 + minutes * 60 + seconds, peak_mb=int(peak[1]) / 1024)
    if stages:
        print(f"  {run.seconds:.2f} s, {run.peak_mb:.0f} MB. {stages[0]}", flush=True)
    return run


def corpus(count: int, images: bool = False) -> Path:
    site = WORK / (f"{count}-images" if images else str(count))
    if not (site / "newsgen.yaml").exists():
        shutil.rmtree(site, ignore_errors=True)
        generate(count, site)
        if images:
            with_images(site)
            # The galleries' remote images cannot be fetched offline (exit 1): they stay links.
            started = time.perf_counter()
            fetch = [*NEWSGEN, "images", "fetch", "--quiet"]
            subprocess.run(fetch, cwd=site, env=ENV, capture_output=True, check=False)
            seconds = time.perf_counter() - started
            print(f"  images fetch (local copies): {seconds:.2f} s", flush=True)
    return site


def variants(site: Path) -> int:
    """The files in the variant cache: a rebuild that encodes none leaves the count."""
    cache = site / ".newsgen" / "variants"
    return len(os.listdir(cache)) if cache.is_dir() else 0


TRASH = WORK / "trash"


def clean(site: Path) -> None:
    """Move the last build and cache aside; they are deleted once all is measured. Deleting
    them here would charge the next cold build for the deletion: on this VM's ext4 (mounted
    with `discard`), cp -r of a 10k build took 1.5 s on an idle disk and 7.8 s right after
    deleting one. The cp -r column measures that floor right after each cold build."""
    TRASH.mkdir(parents=True, exist_ok=True)
    for name in ("build", ".newsgen"):
        if (site / name).exists():
            (site / name).rename(tempfile.mkdtemp(dir=TRASH) + "/" + name)


def disk_probe(site: Path) -> float:
    """Microseconds to make a new folder holding one small file, in the site folder, now.
    The same build took 6 s at one time and 12 s at another on this VM: after many files are
    deleted, ext4 spends minutes skipping the recently deleted inodes while it makes new ones
    (perf: most of the kernel's time in `recently_deleted`), and so did `cp -r`."""
    probe = site / ".disk-probe"
    probe.mkdir()
    started = time.perf_counter()
    for n in range(PROBES):
        folder = probe / str(n)
        folder.mkdir()
        (folder / "index.html").write_bytes(b"<p>probe</p>")
    seconds = time.perf_counter() - started
    probe.rename(tempfile.mkdtemp(dir=TRASH) + "/probe")
    return seconds / PROBES * 1e6


PROBES = 200


def edit(site: Path, round_: int) -> None:
    """Change one sentence of one article (a different one each round)."""
    seeds = sorted((site / "seeds").glob("*.txt"))
    path = seeds[(len(seeds) // 2 + round_) % len(seeds)]
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    lines[1] = lines[1] + f" Corrected in round {round_}."
    path.write_text("\n".join(lines), encoding="utf-8")


def measure(count: int, runs: int, extra: list[str], images: bool) -> dict[str, list[Run]]:
    site = corpus(count, images)
    build = [*NEWSGEN, "build", "--verbose", *extra]
    figures: dict[str, list[Run]] = {"disk": [], "cold": [], "copy": [], "nochange": [], "edit": []}
    for round_ in range(runs):
        clean(site)
        figures["disk"].append(Run(seconds=disk_probe(site), peak_mb=0))
        figures["cold"].append(timed(build, site))
        made = variants(site)
        copy = Path(tempfile.mkdtemp(dir=TRASH)) / "copy"
        figures["copy"].append(timed(["cp", "-r", "build", str(copy)], site))
        figures["nochange"].append(timed(build, site))
        edit(site, round_)
        figures["edit"].append(timed(build, site))
        if images:
            shutil.rmtree(site / "build")
            figures.setdefault("deleted", []).append(timed(build, site))
            print(
                f"  variants: {made} encoded by the cold build; "
                f"{variants(site) - made} more after the rebuilds (0: every one a cache hit)",
                flush=True,
            )
    return figures


def row(count: int, figures: dict[str, list[Run]]) -> str:
    def median(name: str) -> str:
        """The median, and the range when there are several runs: on a machine whose speed
        varies, the range says how far one run may land from it."""
        seconds = [r.seconds for r in figures[name]]
        spread = f" ({min(seconds):.2f}–{max(seconds):.2f})" if len(seconds) > 1 else ""
        return f"{statistics.median(seconds):.2f} s{spread}"

    peak = max(r.peak_mb for name, runs in figures.items() if name != "copy" for r in runs)
    deleted = f" | {median('deleted')}" if "deleted" in figures else ""
    disk = statistics.median(r.seconds for r in figures["disk"])
    return (
        f"| {count:,} | {median('cold')} | {median('copy')} | {median('nochange')} "
        f"| {median('edit')} | {peak:.0f} MB | {disk:.0f} µs | {len(figures['cold'])}{deleted} |"
    )


def newsgen_folder() -> str:
    import newsgen

    return str(Path(newsgen.__file__).parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="+")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-search", action="store_true", help="build without the search index")
    parser.add_argument(
        "--images", action="store_true", help="two images in the site for every article"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help=f"leave the old builds in {TRASH} (deleting them slows the disk for minutes)",
    )
    args = parser.parse_args()
    lines = [
        "| articles | cold build | cp -r of the output | rebuild, no change | rebuild, one edit "
        "| peak memory | disk: new folder | runs |" + (" build/ deleted |" if args.images else ""),
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        + (" ---: |" if args.images else ""),
    ]
    compile_newsgen = [sys.executable, "-m", "compileall", "-q", newsgen_folder()]
    subprocess.run(compile_newsgen, check=True, env=ENV)
    for size in args.sizes:
        extra = ["--no-search"] if args.no_search else []
        lines.append(row(size, measure(size, args.runs, extra, args.images)))
        print(lines[-1], flush=True)
    if not args.keep:
        shutil.rmtree(TRASH, ignore_errors=True)
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        args.out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
