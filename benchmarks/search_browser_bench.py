"""Search in the browser at scale: time to first result, cold, in Chromium against a local
server, with the indexing behind it (time, peak memory of all processes, index size) and the
bytes a query transfers.

For each size, N articles are made in memory from the real seeds' paragraphs (as
`search_bench.py --synthetic` makes them), indexed into the output of a site built with no
articles (its search page, theme and assets), and the search page is opened in a new browser
context (an empty cache) at `search/?q=WORD` for each word; the time is from navigation start
to the first result in the page. Prints one JSON line per size:

    python benchmarks/search_browser_bench.py 1000 10000 100000 --out /tmp/sbb

Memory: the peak of the summed PSS of this process and all its children (the Pagefind
services), sampled every 50 ms; the summed RSS and the largest process's RSS beside it.
Bytes: the median of each kind of file (Pagefind's metadata, index chunks, filters,
fragments, WebAssembly, scripts) beside the total, and the load average beside the times. The
local server sends files as they are; `query_kb_text_gzipped` is the same query as a host that
gzips text sends it (its scripts, styles, page and JSON; Pagefind's own files are gzip already).

Comparing versions: build each one's output with its own newsgen on PYTHONPATH (the harness
only needs the search page to draw `.search-result` elements for `?q=`), then load them in
turns, so that both see the same load:

    PYTHONPATH=/tmp/before python benchmarks/search_browser_bench.py 10000 --out /tmp/a
    python benchmarks/search_browser_bench.py 10000 --out /tmp/b
    python benchmarks/search_browser_bench.py 10000 --browser-only /tmp/a /tmp/b

`--log` prints each request of the last load (start, duration, bytes, path): the chain of
round trips before the first result. `--words` queries other words than the default ones
(common words of the corpus, in every shard of their languages); a headline's number, such
as 73519 at 100k, is in one article: report such figures apart from the default words'.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import random
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(Path(__file__).resolve().parent.parent))

from search_bench import fake_article, real_paragraphs

from newsgen import search
from newsgen.build import build
from newsgen.config import load_config
from newsgen.records import Article
from tests.site_pages import serve

WORDS = ("governo", "president", "Londra", "Bruxelles")
# Set before any script of the page runs: the moment the first result is in the document.
FIRST = """
window.__first = null;
new MutationObserver((_, observer) => {
  if (document.querySelector('.search-result')) {
    window.__first = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, childList: true});
"""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="+")
    parser.add_argument("--out", type=Path, default=Path("/tmp/newsgen-search-browser"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=3, help="cold page loads per word")
    parser.add_argument(
        "--browser-only",
        type=Path,
        nargs="+",
        metavar="OUT",
        help="no indexing: load the outputs OUT/<size> written before, in turns",
    )
    parser.add_argument("--log", action="store_true", help="print the last load's requests")
    parser.add_argument(
        "--words",
        nargs="+",
        default=list(WORDS),
        help="the query words (default: common words of the corpus, held by every shard of "
        "their languages; a headline's number, e.g. 73519, is in one article)",
    )
    args = parser.parse_args()
    if args.browser_only:
        for size in args.sizes:
            outputs = [out / str(size) / "build" for out in args.browser_only]
            found = in_browser(outputs, args.runs, args.log, args.words)
            for output, figures in zip(outputs, found, strict=True):
                print(json.dumps({"articles": size, "output": str(output), **figures}), flush=True)
        return 0
    texts = real_paragraphs()
    for size in args.sizes:
        output = site_output(args.out / str(size))
        articles = [fake_article(n, texts) for n in range(size)]

        def body_of(article: Article) -> str:
            rng = random.Random(article.id)
            chosen = rng.sample(texts[article.lang], 6)
            return "".join(f"<p>{html.escape(p)}</p>" for p in chosen)

        with peak_memory() as memory:
            started = time.perf_counter()
            report = search.index_site(articles, body_of, output, "it", jobs=args.jobs)
            seconds = time.perf_counter() - started
        line: dict[str, object] = {
            "articles": size,
            "index_s": round(seconds, 2),
            "shards": report.shards,
            "index_mb": round(report.bytes / 1e6, 1),
            **{key: round(value / 2**20) for key, value in memory.items()},
        }
        line.update(in_browser([output], args.runs, args.log, args.words)[0])
        print(json.dumps(line), flush=True)
    return 0


def site_output(folder: Path) -> Path:
    """A site with no articles, built: the theme's search page and assets, no index yet."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "newsgen.yaml").write_text(
        "title: Bench\nbase_url: http://127.0.0.1/\nlanguage: it\n", encoding="utf-8"
    )
    config = load_config(folder)
    build(config, jobs=1)
    return config.output_dir


KINDS = {
    ".pf_meta": "meta",
    ".pf_index": "index",
    ".pf_filter": "filter",
    ".pf_fragment": "fragment",
    ".pagefind": "wasm",
    ".js": "js",
}


def kind_of(url: str) -> str:
    path = url.split("?")[0]
    return next((kind for end, kind in KINDS.items() if path.endswith(end)), "other")


# What a static host compresses on the way (Netlify, Cloudflare Pages, GitHub Pages; nginx
# with the `.gz` copies of `compress: true`): text. Pagefind's own files are gzip already.
TEXT = (".html", ".js", ".css", ".json", ".svg", ".xml", "/")


def compressed_size(output: Path, url: str, sent: int, headers: int) -> int:
    """The bytes a host that gzips text responses would send for `url` (the local server
    sends files as they are): headers, then the file gzipped when that is smaller."""
    path = urlsplit(url).path
    if not path.endswith(TEXT):
        return sent
    name = output / unquote(path).lstrip("/")
    if path.endswith("/"):
        name = name / "index.html"
    try:
        data = name.read_bytes()
    except OSError:
        return sent
    return headers + min(len(data), len(gzip.compress(data, 6, mtime=0)))


def in_browser(
    outputs: list[Path], runs: int, log: bool, words: Sequence[str] = WORDS
) -> list[dict[str, object]]:
    """Cold loads of each output's search page, the outputs in turns."""
    from playwright.sync_api import Request, sync_playwright

    firsts: list[list[float]] = [[] for _ in outputs]
    transferred: list[list[dict[str, int]]] = [[] for _ in outputs]
    loads: list[float] = []
    with ExitStack() as stack, sync_playwright() as playwright:
        urls = [stack.enter_context(serve(output, "/")) for output in outputs]
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for word in words:
            for _ in range(runs):
                for n, url in enumerate(urls):
                    context = browser.new_context()  # its own, empty cache
                    # Counted from the network, workers' requests included (Pagefind fetches
                    # its index in a worker, out of sight of the page's performance entries).
                    # Start, duration, URL, bytes, of which headers.
                    seen: list[tuple[float, float, str, int, int]] = []

                    def finished(request: Request, seen: list[Any] = seen) -> None:
                        sizes = request.sizes()
                        head = sizes["responseHeadersSize"]
                        timing = request.timing
                        start, took = timing["startTime"], timing["responseEnd"]
                        seen.append(
                            (start, took, request.url, sizes["responseBodySize"] + head, head)
                        )

                    context.on("requestfinished", finished)
                    page = context.new_page()
                    page.add_init_script(FIRST)
                    page.goto(url + "search/?q=" + word)
                    page.wait_for_selector(".search-result", state="attached", timeout=120_000)
                    firsts[n].append(page.evaluate("window.__first"))
                    origin = page.evaluate("performance.timeOrigin")
                    page.wait_for_load_state("networkidle")
                    loads.append(os.getloadavg()[0])
                    # Gzipped once the load is over: this process serves the page too.
                    gzipped = (
                        compressed_size(outputs[n], address, size, head)
                        for *_, address, size, head in seen
                    )
                    counts = {
                        "all": sum(size for *_, size, _ in seen),
                        "gzip": sum(gzipped),
                        "requests": len(seen),
                    }
                    for *_, address, size, _ in seen:
                        kind = kind_of(address)
                        counts[kind] = counts.get(kind, 0) + size
                    transferred[n].append(counts)
                    context.close()
                    if log:
                        print(f"{outputs[n]} {word}: first result {firsts[n][-1]:.0f} ms")
                        for start, took, address, size, _ in sorted(seen):
                            path = address.removeprefix(url.rstrip("/"))
                            print(f"  {start - origin:6.0f} +{took:5.0f} ms {size:8d} B  {path}")
        browser.close()
    return [
        {
            "first_result_ms": round(statistics.median(times)),
            "first_result_ms_range": [round(min(times)), round(max(times))],
            "load_avg_1min": [round(min(loads), 1), round(max(loads), 1)],
            "query_kb": round(statistics.median(t["all"] for t in counts) / 1000),
            "query_kb_text_gzipped": round(statistics.median(t["gzip"] for t in counts) / 1000),
            "requests": round(statistics.median(t["requests"] for t in counts)),
            "kb_by_kind": {
                kind: round(statistics.median(t.get(kind, 0) for t in counts) / 1000)
                for kind in ("meta", "index", "filter", "fragment", "wasm", "js", "other")
            },
        }
        for times, counts in zip(firsts, transferred, strict=True)
    ]


@contextmanager
def peak_memory() -> Iterator[dict[str, int]]:
    """Peak summed PSS (and summed RSS, largest RSS) of this process and its children."""
    peaks = {"pss_peak_mb": 0, "rss_sum_peak_mb": 0, "rss_largest_peak_mb": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            pss, rss = [], []
            for pid in _tree(os.getpid()):
                fields = _rollup(pid)
                pss.append(fields.get("Pss", 0))
                rss.append(fields.get("Rss", 0))
            peaks["pss_peak_mb"] = max(peaks["pss_peak_mb"], sum(pss) * 1024)
            peaks["rss_sum_peak_mb"] = max(peaks["rss_sum_peak_mb"], sum(rss) * 1024)
            peaks["rss_largest_peak_mb"] = max(peaks["rss_largest_peak_mb"], max(rss) * 1024)
            stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = task.read_text(encoding="ascii").split()
        except OSError:
            continue
        for child in children:
            found += _tree(int(child))
    return found


def _rollup(pid: int) -> dict[str, int]:
    """Fields of /proc/PID/smaps_rollup, in kB; nothing for a process that has ended."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii").splitlines()
    except OSError:
        return {}
    fields = {}
    for line in lines[1:]:
        name, _, rest = line.partition(":")
        value = rest.split()
        if value and value[0].isdigit():
            fields[name] = int(value[0])
    return fields


if __name__ == "__main__":
    raise SystemExit(main())
