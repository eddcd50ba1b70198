"""Time from saving a seed to the reloaded page in `newsgen serve`, at N articles, with one open
page or with many.

    .venv/bin/python -m tests.serve_timing 1000 [--clients 200] [--edits 5] [--workdir DIR]

Makes a site of N articles with benchmarks/corpus.py, starts `newsgen serve --port 0`, opens one
article in Debian's Chromium and, with `--clients`, that many more simulated tabs of the same
article: each listens to the event stream as the reload script does and, on a reload, fetches
the page again and reconnects (a browser's reload, minus the rendering). Then it saves an edit of
the article's seed several times and prints, for each, the seconds from the save to Chromium's
`load` event of the reloaded page and to the last simulated tab holding the new page, and the
build time the server printed. Not a test: it measures, and keeps absolute times out of the test
suite.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.corpus import generate

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
]
GUARD = 120.0  # seconds: only so that a broken server cannot hang the measurement
SILENCE = 40.0  # seconds without a byte on an event stream (keep-alives come every 15 s)


def make_site(root: Path, count: int) -> None:
    if not (root / "seeds").is_dir() or len(list((root / "seeds").glob("*.txt"))) != count:
        generate(count, root)


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


def article_of(site: Path, n: int) -> str:
    """The output path of the article of seed number `n` (its text says `Archive note n:`)."""
    marker = f"Archive note {n}:".encode()
    for page in sorted((site / "build" / "articles").glob("*/index.html")):
        if marker in page.read_bytes():
            return page.parent.relative_to(site / "build").as_posix() + "/"
    sys.exit(f"no page holds {marker!r}")


class Tab(threading.Thread):
    """A simulated open page: the reload script's event stream, and a fetch on each reload."""

    def __init__(self, port: int, path: str, file: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.path, self.file, self.stop = port, path, file, stop
        self.connected = threading.Event()
        self.marker = ""
        self.failures = 0
        self.seen: dict[str, float] = {}  # marker -> when the page holding it was fetched

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._listen_until_reload()
            except OSError:
                self.failures += 1
                time.sleep(1)  # as EventSource does after `retry: 1000`
                continue
            body = self._fetch(self.path)
            if self.marker and self.marker.encode() in body:
                self.seen.setdefault(self.marker, time.perf_counter())

    def _listen_until_reload(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=SILENCE) as stream:
            request = f"GET /__newsgen/events HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n"
            stream.sendall(request.encode())
            received = b""
            while not self.stop.is_set():
                data = stream.recv(65536)
                if not data:
                    return
                self.connected.set()
                received += data
                for block in re.findall(rb"event: reload\ndata: (.*)\n\n", received):
                    files = re.findall(rb'"([^"]+)"', block)
                    if b"null" in block or self.file.encode() in files:
                        return
                received = received[received.rfind(b"\n\n") + 2 :]

    def _fetch(self, path: str) -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=GUARD)
        try:
            connection.request("GET", path)
            return connection.getresponse().read()
        except OSError:
            return b""
        finally:
            connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("--clients", type=int, default=0, help="simulated tabs beside Chromium")
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/serve-timing"))
    args = parser.parse_args()
    site = args.workdir / f"site-{args.count}"
    make_site(site, args.count)
    started = time.perf_counter()
    process, url, err = start(site)
    print(f"{args.count} articles: first build and start {time.perf_counter() - started:.1f} s")
    middle = args.count // 2
    seed = site / "seeds" / f"{middle:06d}_{middle:016x}.txt"
    note = f"Archive note {middle}:"
    original = seed.read_text(encoding="utf-8")
    article = article_of(site, middle)
    port = int(url.split(":")[2].split("/")[0])
    path = "/" + url.split("/", 3)[3] + article
    stop = threading.Event()
    tabs = [Tab(port, path, article + "index.html", stop) for _ in range(args.clients)]
    reloads: list[float] = []
    slowest: list[float] = []
    missed: list[int] = []  # tabs that had not reloaded after GUARD seconds
    try:
        connecting = time.perf_counter()
        for tab in tabs:
            tab.start()
        for tab in tabs:
            tab.connected.wait(GUARD)
        if tabs:
            waited = time.perf_counter() - connecting
            print(f"{len(tabs)} simulated tabs connected in {waited:.2f} s")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page()
            page.goto(url + article)
            for n in range(args.edits):
                marker = f"Modifica numero {n} per la misura."
                for tab in tabs:
                    tab.marker = marker
                with page.expect_event("load", timeout=GUARD * 1000):
                    saved = time.perf_counter()
                    temporary = seed.with_suffix(".saving")
                    temporary.write_text(original.replace(note, f"{note} {marker}"))
                    os.replace(temporary, seed)
                reloads.append(time.perf_counter() - saved)
                assert marker in page.content(), "reloaded without the edit"
                deadline = time.monotonic() + GUARD
                while any(marker not in t.seen for t in tabs) and time.monotonic() < deadline:
                    time.sleep(0.01)
                late = [t.seen[marker] - saved for t in tabs if marker in t.seen]
                if tabs:
                    slowest.append(max(late, default=float("inf")))
                    missed.append(len(tabs) - len(late))
                time.sleep(0.5)  # let the watcher settle between edits
            browser.close()
    finally:
        stop.set()
        seed.write_text(original, encoding="utf-8")
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    if tabs:
        print(f"event streams that failed and reconnected: {sum(t.failures for t in tabs)}")
    builds = [float(s) for s in re.findall(r"Rebuilt: .*? in ([\d.]+) s", err.read_text())]
    print(f"save -> Chromium's reloaded page (s): {' '.join(f'{r:.2f}' for r in reloads)}")
    if slowest:
        print(f"save -> last simulated tab reloaded (s): {' '.join(f'{r:.2f}' for r in slowest)}")
        print(f"tabs not reloaded after {GUARD:.0f} s: {' '.join(map(str, missed))}")
    reload, rebuild = statistics.median(reloads), statistics.median(builds)
    print(f"  median {reload:.2f} s; median rebuild (as printed) {rebuild:.2f} s", end="")
    print(f"; median last tab {statistics.median(slowest):.2f} s" if slowest else "")


if __name__ == "__main__":
    main()
