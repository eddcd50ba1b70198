"""Time from saving a seed to the reloaded page in `newsgen serve`, at N articles.

    .venv/bin/python -m tests.serve_timing 1000 [--edits 5] [--workdir /tmp/serve-timing]

Makes a site of N seeds (deterministic variations of the repository's seeds/, each with its own
title line and an added paragraph so that none is a duplicate), starts `newsgen serve --port 0`,
opens one article in Debian's Chromium, then saves an edit of its seed several times and prints,
for each, the seconds from the save to the reloaded page's `load` event, and the build time the
server printed. Not a test: it measures, and keeps absolute times out of the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.conftest import REPO

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
]


def make_site(root: Path, count: int) -> None:
    """`count` seeds named like the real ones, from the repository's seeds in turn."""
    originals = sorted((REPO / "seeds").glob("*.txt"))
    seeds = root / "seeds"
    if seeds.is_dir() and len(list(seeds.glob("*.txt"))) == count:
        return
    shutil.rmtree(root, ignore_errors=True)
    seeds.mkdir(parents=True)
    for i in range(count):
        text = originals[i % len(originals)].read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        body = f"Articolo di prova {i}\n\n{first}\nCopia numero {i} di questo articolo.\n{rest}"
        digest = hashlib.sha256(body.encode()).hexdigest()[:16]
        (seeds / f"{i:05d}_{digest}.txt").write_text(body, encoding="utf-8")
    (root / "newsgen.yaml").write_text("title: Timing\nlanguage: it\n", encoding="utf-8")


def start(site: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    err = site.parent / "serve.err"
    out = site.parent / "serve.out"
    with out.open("wb") as o, err.open("wb") as e:
        command = [sys.executable, "-m", "newsgen", "serve", "--site", str(site), "--port", "0"]
        process = subprocess.Popen(command, stdout=o, stderr=e)
    while not (found := re.search(r"at (http://\S+) ", out.read_text())):
        if process.poll() is not None:
            sys.exit(err.read_text())
        time.sleep(0.1)
    return process, found[1], err


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/serve-timing"))
    args = parser.parse_args()
    site = args.workdir / f"site-{args.count}"
    make_site(site, args.count)
    started = time.perf_counter()
    process, url, err = start(site)
    print(f"{args.count} articles: first build and start {time.perf_counter() - started:.1f} s")
    middle = args.count // 2
    seed = sorted((site / "seeds").glob("*.txt"))[middle]
    slug = f"articolo-di-prova-{middle}"
    copy = f"Copia numero {middle} di questo articolo."
    original = seed.read_text(encoding="utf-8")
    reloads: list[float] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page()
            page.goto(f"{url}articles/{slug}/")
            for n in range(args.edits):
                marker = f"Modifica numero {n} per la misura."
                with page.expect_event("load", timeout=60_000):
                    saved = time.perf_counter()
                    temporary = seed.with_suffix(".saving")
                    # An edit of the second paragraph: the article page changes, and the
                    # listings only if they show more than the lede.
                    temporary.write_text(original.replace(copy, f"{copy} {marker}"))
                    os.replace(temporary, seed)
                reloads.append(time.perf_counter() - saved)
                assert marker in page.content(), "reloaded without the edit"
                time.sleep(0.5)  # let the watcher settle between edits
            browser.close()
    finally:
        seed.write_text(original, encoding="utf-8")
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    builds = [float(s) for s in re.findall(r"Rebuilt: .*? in ([\d.]+) s", err.read_text())]
    print(f"save -> reloaded page (s): {' '.join(f'{r:.2f}' for r in reloads)}")
    reload, rebuild = statistics.median(reloads), statistics.median(builds)
    print(f"  median {reload:.2f} s; median rebuild (as printed) {rebuild:.2f} s")


if __name__ == "__main__":
    main()
