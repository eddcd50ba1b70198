"""Search indexing at scale: full indexing, the update after one edit, and Pagefind's own CLI.

Builds a site from scratch (output and cache removed), then appends a sentence to one seed and
builds again. Prints one JSON line per step: wall seconds of the build and of the indexing in it,
index size, shards indexed, and the peak RSS of this process and of the largest child (the
Pagefind service). Corpora come from benchmarks/corpus.py (deterministic, real vocabulary):

    python benchmarks/corpus.py 10000 /tmp/corpus-10k
    python benchmarks/search_bench.py /tmp/corpus-10k            # shards (what newsgen does)
    python benchmarks/search_bench.py /tmp/corpus-10k --single   # one index per language
    python benchmarks/search_bench.py /tmp/corpus-10k --cli      # also `python -m pagefind`
    python benchmarks/search_bench.py /tmp/idx --synthetic 100000 # indexing alone, 100k

Run it under `/usr/bin/time -v` for the whole process' figures. Machines are shared: quote
medians of several runs and compare approaches within one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import html
import json
import os
import random
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
from newsgen.records import Article

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
    parser.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="index N generated articles straight into SITE/build, without the rest of the build",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    search.PagefindService.__exit__ = _record_peak(search.PagefindService.__exit__)  # type: ignore[method-assign]
    if args.single:
        search.SHARD_SIZE = 10**9
    if args.synthetic:
        return index_only(args.synthetic, args.site / "build", args.jobs)
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


def index_only(count: int, output: Path, jobs: int) -> int:
    """Indexing alone at a size the whole build would take too long for on a shared machine:
    articles made in memory from the real seeds' paragraphs (deterministic), bodies on demand."""
    shutil.rmtree(output, ignore_errors=True)
    texts = real_paragraphs()
    articles = [fake_article(n, texts) for n in range(count)]

    def body_of(article: Article) -> str:
        rng = random.Random(article.id)
        return "".join(f"<p>{html.escape(p)}</p>" for p in rng.sample(texts[article.lang], 6))

    for step in ("full", "one edit"):
        PEAKS.clear()
        started = time.perf_counter()
        index = search.index_site(articles, body_of, output, "it", jobs=jobs)
        report_index(step, count, time.perf_counter() - started, index)
        articles[0] = dataclasses.replace(articles[0], body_key=f"edited {time.time()}")
    return 0


def real_paragraphs() -> dict[str, list[str]]:
    """Paragraphs of the real articles in seeds/, by language (from CORPUS-MANIFEST.tsv)."""
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    rows = (seeds / "CORPUS-MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    found: dict[str, list[str]] = {}
    for row in rows:
        name, lang = row.split("\t")[:2]
        lines = (seeds / name).read_text(encoding="utf-8").splitlines()
        found.setdefault(lang, []).extend(x for x in lines if len(x) > 40)
    return found


def fake_article(n: int, texts: dict[str, list[str]]) -> Article:
    rng = random.Random(n)
    lang = rng.choices(sorted(texts), weights=[len(texts[k]) for k in sorted(texts)])[0]
    words = rng.choice(texts[lang]).split()
    title = " ".join(words[:12]) + f" {n}"
    return Article(
        id=f"{n:016x}",
        path=f"seeds/{n:06d}.txt",
        order=n,
        title=title,
        slug=f"a-{n}",
        lang=lang,
        dateline=rng.choice(["Roma", "Paris", "London", "Bruxelles", "Berlin"]),
        date=dt.date(1995 + n % 30, 1 + n % 12, 1 + n % 28),
        published=None,
        summary="",
        tags=(),
        related=(),
        image=None,
        body_key=f"body {n}",
    )


def report_index(step: str, count: int, seconds: float, index: search.IndexReport) -> None:
    line = {
        "step": step,
        "articles": count,
        "index_s": round(seconds, 2),
        "shards": index.shards,
        "indexed": index.indexed,
        "records": index.records,
        "index_mb": round(index.bytes / 1e6, 1),
        "self_peak_mb": _peak_mb(resource.RUSAGE_SELF),
        "pagefind_peak_mb": round(max(PEAKS, default=0) / 1024),
    }
    print(json.dumps(line), flush=True)


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
