"""Issue 19: `newsgen images fetch` against a real HTTP server (stdlib, in a thread, on
127.0.0.1, allowed by name in the site's newsgen.yaml) serving real JPEG, PNG and WebP files
and broken ones; then builds that publish the mirror: variants, markup, the variant cache,
determinism, incremental == clean, and a browser that asks no other host."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser

from newsgen import media, write
from newsgen.config import load_config
from newsgen.fetch import Policy, fetch_images
from newsgen.publish import variant_cache
from tests.conftest import build_site
from tests.site_pages import SUB_PATH, serve
from tests.util import (
    clean_build,
    differing,
    in_process,
    next_tick,
    settle_outputs,
    snapshot,
    start,
)

DEADLINE = 30.0
SEED = "seeds/000_0123456789abcdef.txt"


def image_bytes(kind: str, size: tuple[int, int], colour: tuple[int, ...]) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if len(colour) == 4 else "RGB"
    Image.new(mode, size, colour).save(out, kind)
    return out.getvalue()


JPEG = image_bytes("JPEG", (1500, 1000), (200, 30, 30))
PNG = image_bytes("PNG", (400, 300), (0, 90, 200, 128))
WEBP = image_bytes("WEBP", (700, 500), (0, 160, 60))


def bomb() -> bytes:
    """A PNG of 20,000 × 20,000 pixels (400 MP, past twice Pillow's limit) in a few kB."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Answer:
    status: int = 200
    kind: str = "image/jpeg"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Send only this many bytes of the body (a Content-Length promising all), then stop.
    cut: int | None = None
    hold: threading.Event | None = None  # after the cut, wait for this before closing
    repeat: int = 0  # bytes of zeros to stream (a 60 MB file without holding it)


@dataclass
class Server:
    url: str
    answers: dict[str, Answer | list[Answer]]
    hits: dict[str, int] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)
    busy: int = 0
    most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    slow: float = 0.0


def handler_for(state: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with state.lock:
                state.hits[self.path] = state.hits.get(self.path, 0) + 1
                state.agents.append(self.headers.get("User-Agent", ""))
                state.busy += 1
                state.most = max(state.most, state.busy)
                hit = state.hits[self.path]
            try:
                if state.slow:
                    threading.Event().wait(state.slow)  # keeps requests in flight together
            finally:
                # Counted out before the answer is written: once the client has read it, it
                # may send its next request before this thread would run again, and the two
                # would look simultaneous here without being so for the client.
                with state.lock:
                    state.busy -= 1
            self.answer(hit)

        def answer(self, hit: int) -> None:
            found = state.answers.get(self.path, Answer(status=404, kind="text/plain"))
            answer = found[min(hit, len(found)) - 1] if isinstance(found, list) else found
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.kind)
            length = answer.repeat or len(answer.body)
            if answer.repeat == 0 or "no-length" not in answer.headers:
                self.send_header("Content-Length", str(length))
            for name, value in answer.headers.items():
                if name != "no-length":
                    self.send_header(name, value)
            self.end_headers()
            if answer.repeat:
                chunk = b"\0" * 65536
                try:
                    for _ in range(answer.repeat // len(chunk)):
                        self.wfile.write(chunk)
                except OSError:
                    pass
                return
            body = answer.body if answer.cut is None else answer.body[: answer.cut]
            self.wfile.write(body)
            self.wfile.flush()
            if answer.hold is not None:
                answer.hold.wait(DEADLINE)
            self.close_connection = True

    return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="", answers={})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def make_site(
    root: Path, body: list[str], gallery: Sequence[str] = (), *, allow: bool = True, extra: str = ""
) -> Path:
    (root / "seeds").mkdir(parents=True)
    lines = [
        "Roma – Il governo ha approvato oggi la nuova legge sul bilancio dello Stato.",
        *body,
        "Il testo passa ora al Senato per il voto finale entro la fine del mese.",
        *gallery,
    ]
    (root / SEED).write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = f"base_url: http://127.0.0.1{SUB_PATH}\n" + extra
    if allow:
        settings += "allow_hosts: [127.0.0.1]\n"
    (root / "newsgen.yaml").write_text(settings, encoding="utf-8")
    return root


FAST = Policy(allow_hosts=frozenset({"127.0.0.1"}), timeout=5.0, attempts=3, backoff=0.01)


def fetch(site: Path, policy: Policy = FAST) -> Any:
    return fetch_images(load_config(site), policy=policy, jobs=8)


def manifest(site: Path) -> dict[str, media.Entry]:
    return media.read_manifest(site / "media")


def store_files(site: Path) -> list[str]:
    return sorted(os.listdir(site / "media"))


# --- fetching -------------------------------------------------------------------------------


def test_real_images_are_stored_by_content_with_a_manifest(server: Server, tmp_path: Path) -> None:
    server.answers = {
        "/a.jpg": Answer(body=JPEG),
        "/b.png": Answer(kind="image/png", body=PNG),
        "/c.webp": Answer(kind="image/webp", body=WEBP),
    }
    u = server.url
    site = make_site(tmp_path / "s", [f"![In the text]({u}/a.jpg)"], [f"![B]({u}/b.png)",
                     f"![C [Credit: Foo]]({u}/c.webp)"])  # fmt: skip
    report = fetch(site)
    assert report.summary() == "Images: 3 fetched, 0 already there, 0 failed."
    entries = manifest(site)
    assert {r: (e.status, e.width, e.height) for r, e in entries.items()} == {
        f"{u}/a.jpg": ("ok", 1500, 1000),
        f"{u}/b.png": ("ok", 400, 300),
        f"{u}/c.webp": ("ok", 700, 500),
    }
    for entry in entries.values():
        data = (site / "media" / entry.file).read_bytes()
        assert entry.file == f"{entry.sha256[:24]}.{entry.file.rsplit('.', 1)[1]}"
        import hashlib

        assert hashlib.sha256(data).hexdigest() == entry.sha256
    assert {e.file.rsplit(".", 1)[1] for e in entries.values()} == {"jpg", "png", "webp"}
    assert set(server.agents) == {server.agents[0]} and server.agents[0].startswith("newsgen/")


def test_a_second_run_fetches_only_what_is_missing_or_failed(
    server: Server, tmp_path: Path
) -> None:
    server.answers = {"/a.jpg": Answer(body=JPEG), "/late.png": Answer(status=404)}
    u = server.url
    site = make_site(tmp_path / "s", [f"![A]({u}/a.jpg)", f"![L]({u}/late.png)"])
    assert fetch(site).summary() == "Images: 1 fetched, 0 already there, 1 failed (1 HTTP 404)."
    server.answers["/late.png"] = Answer(kind="image/png", body=PNG)
    assert fetch(site).summary() == "Images: 1 fetched, 1 already there, 0 failed."
    assert server.hits == {"/a.jpg": 1, "/late.png": 2}


def test_answers_that_may_pass_are_tried_again_and_others_are_not(
    server: Server, tmp_path: Path
) -> None:
    server.answers = {
        "/busy.jpg": [Answer(status=503), Answer(status=503), Answer(body=JPEG)],
        "/gone.jpg": Answer(status=404),
    }
    site = make_site(
        tmp_path / "s", [f"![B]({server.url}/busy.jpg)", f"![G]({server.url}/gone.jpg)"]
    )
    assert fetch(site).summary() == "Images: 1 fetched, 0 already there, 1 failed (1 HTTP 404)."
    assert server.hits == {"/busy.jpg": 3, "/gone.jpg": 1}


def test_no_host_gets_more_than_two_requests_at_a_time(server: Server, tmp_path: Path) -> None:
    server.answers = {f"/{n}.png": Answer(kind="image/png", body=image_bytes("PNG", (20, 10 + n),
                      (n, 0, 0))) for n in range(12)}  # fmt: skip
    server.slow = 0.05
    site = make_site(tmp_path / "s", [f"![{n}]({server.url}/{n}.png)" for n in range(12)])
    assert fetch(site).summary() == "Images: 12 fetched, 0 already there, 0 failed."
    assert server.most == 2


BAD = {
    "/page.jpg": Answer(kind="text/html", body=b"<!doctype html><title>x</title>"),
    "/missing.jpg": Answer(status=404, kind="text/plain", body=b"no"),
    "/loop-a.jpg": Answer(status=302, headers={"Location": "/loop-b.jpg"}),
    "/loop-b.jpg": Answer(status=302, headers={"Location": "/loop-a.jpg"}),
    "/empty.png": Answer(kind="image/png", body=b""),
    "/fake.png": Answer(kind="image/png", body=b"GIF89a but not really an image at all" * 10),
    "/huge.jpg": Answer(repeat=60 * 1024 * 1024),
    "/bomb.png": Answer(kind="image/png", body=bomb()),
    "/logo.svg": Answer(kind="image/svg+xml", body=b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
    "/cut.jpg": Answer(body=JPEG, cut=len(JPEG) // 2),
}


def test_every_bad_input_is_named_with_its_file_url_and_reason(
    server: Server, tmp_path: Path
) -> None:
    server.answers = dict(BAD)
    u = server.url
    refs = [f"{u}{path}" for path in BAD] + ["file:///etc/hostname", "data:image/png;base64,iVBO"]
    site = make_site(tmp_path / "s", [f"![x]({ref})" for ref in refs])
    report = fetch(site)
    where = f"{SEED}: image "
    assert sorted(report.problems) == sorted([
        f"{where}{u}/page.jpg: answered an HTML page (text/html), not an image",
        f"{where}{u}/missing.jpg: answered HTTP 404 (Not Found)",
        f"{where}{u}/loop-a.jpg: redirects in a loop ({u}/loop-a.jpg → {u}/loop-b.jpg → "
        f"{u}/loop-a.jpg)",
        f"{where}{u}/loop-b.jpg: redirects in a loop ({u}/loop-b.jpg → {u}/loop-a.jpg → "
        f"{u}/loop-b.jpg)",
        f"{where}{u}/empty.png: is empty (0 bytes)",
        f"{where}{u}/fake.png: claims to be image/png but is not an image Pillow can read "
        "(JPEG, PNG, WebP or GIF)",
        f"{where}{u}/huge.jpg: is 60 MB, over max_image_mb (20); it stays where it is; raise "
        "max_image_mb in newsgen.yaml to mirror it",
        f"{where}{u}/bomb.png: claims to be image/png but is a decompression bomb (Image size "
        "(400000000 pixels) exceeds limit of 178956970 pixels, could be decompression bomb DOS "
        "attack.); it is not decoded; use a smaller image",
        f"{where}{u}/logo.svg: is an SVG image: SVG can carry scripts and is never mirrored or "
        "inlined; it stays where it is (or use a PNG or JPEG copy)",
        f"{where}{u}/cut.jpg: the download was cut off ({len(JPEG) // 2} of {len(JPEG)} bytes)",
        f"{where}file:///etc/hostname: file: URLs are never fetched (they name a file of "
        "whatever machine builds); put the image in the site and write its path",
        f"{where}data:image/png;base64,iVBO: data: URLs are not mirrored; save the image as a "
        "file in the site and write its path",
    ])  # fmt: skip
    assert store_files(site) == [media.MANIFEST]  # nothing else lost, nothing half there
    assert all(not e.ok for e in manifest(site).values())
    assert server.hits["/cut.jpg"] == 3  # a cut download is tried again


def test_a_loopback_host_is_refused_unless_newsgen_yaml_allows_it(
    server: Server, tmp_path: Path
) -> None:
    server.answers = {"/a.jpg": Answer(body=JPEG)}
    site = make_site(tmp_path / "s", [f"![A]({server.url}/a.jpg)"], allow=False)
    report = fetch_images(load_config(site), jobs=2)
    assert report.problems == [
        f"{SEED}: image {server.url}/a.jpg: its host 127.0.0.1 is at 127.0.0.1, a loopback or "
        "private address; list 127.0.0.1 under allow_hosts in newsgen.yaml to fetch it"
    ]
    assert server.hits == {}
    (site / "newsgen.yaml").write_text("allow_hosts: [127.0.0.1]\n", encoding="utf-8")
    assert fetch_images(load_config(site), jobs=2).summary() == (
        "Images: 1 fetched, 0 already there, 0 failed."
    )


def test_a_redirect_to_a_private_address_is_refused(server: Server, tmp_path: Path) -> None:
    server.answers = {"/a.jpg": Answer(status=302, headers={"Location": "http://10.1.2.3/x.jpg"})}
    site = make_site(tmp_path / "s", [f"![A]({server.url}/a.jpg)"])
    assert fetch(site).problems == [
        f"{SEED}: image {server.url}/a.jpg: its host 10.1.2.3 is at 10.1.2.3, a loopback or "
        "private address; list 10.1.2.3 under allow_hosts in newsgen.yaml to fetch it"
    ]


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_download_killed_half_way_leaves_no_half_file(server: Server, tmp_path: Path) -> None:
    hold = threading.Event()
    server.answers = {"/a.jpg": Answer(body=JPEG, cut=len(JPEG) // 2, hold=hold)}
    site = make_site(tmp_path / "s", [f"![A]({server.url}/a.jpg)"])
    process = start("images", "fetch", "--site", str(site), "--quiet")
    try:
        wait_for(lambda: any(p.stat().st_size for p in (site / "media").glob(".part-*")))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(DEADLINE)
    finally:
        hold.set()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        assert process.stderr is not None
        process.stderr.close()
    names = os.listdir(site / "media")
    assert [n for n in names if not n.startswith(".part-")] == []  # no image, no manifest
    server.answers = {"/a.jpg": Answer(body=JPEG)}
    assert fetch(site).summary() == "Images: 1 fetched, 0 already there, 0 failed."
    assert len(store_files(site)) == 2  # the image and the manifest: the half file is gone


def test_images_in_the_site_are_copied_in_and_a_missing_one_named(tmp_path: Path) -> None:
    site = make_site(tmp_path / "s", ["![Local](images/a.png)", "![None](images/none.png)"])
    (site / "images").mkdir()
    (site / "images" / "a.png").write_bytes(PNG)
    report = fetch(site)
    assert report.problems == [
        f"{SEED}: image images/none.png: no such file in the site (images/none.png)"
    ]
    assert manifest(site)["images/a.png"].width == 400


def test_the_command_prints_problems_and_one_summary_line(server: Server, tmp_path: Path) -> None:
    server.answers = {"/a.jpg": Answer(body=JPEG)}
    site = make_site(tmp_path / "s", [f"![A]({server.url}/a.jpg)", f"![M]({server.url}/m.jpg)"])
    ran = in_process("images", "fetch", "--site", str(site))
    assert ran.lines() == (1, [], [
        f"{SEED}: image {server.url}/m.jpg: answered HTTP 404 (Not Found)",
        "Images: 1 fetched, 0 already there, 1 failed (1 HTTP 404).",
    ])  # fmt: skip


# --- building from the store ----------------------------------------------------------------


@pytest.fixture
def mirrored(server: Server, tmp_path: Path) -> Path:
    server.answers = {
        "/a.jpg": Answer(body=JPEG),
        "/b.png": Answer(kind="image/png", body=PNG),
        "/c.webp": Answer(kind="image/webp", body=WEBP),
    }
    u = server.url
    site = make_site(tmp_path / "site", [f"![In the text]({u}/a.jpg)"],
                     [f"![B]({u}/b.png)", f"![C [Credit: Foo]]({u}/c.webp)",
                      "![Gone](http://images.invalid/gone.jpg)"])  # fmt: skip
    assert fetch(site).summary() == ("Images: 3 fetched, 0 already there, 1 failed (1 no answer).")
    return site


def article_html(site: Path) -> str:
    pages = list((site / "build" / "articles").glob("*/index.html"))
    assert len(pages) == 1
    return pages[0].read_text(encoding="utf-8")


def test_a_mirrored_image_is_a_picture_of_its_variants(mirrored: Path) -> None:
    build_site(mirrored)
    html = article_html(mirrored)
    entry = manifest(mirrored)[next(r for r in manifest(mirrored) if r.endswith("/a.jpg"))]
    stem = f"{SUB_PATH}media/{entry.sha256[:24]}-{media.ENCODING}"
    sizes = media.DEFAULT_SIZES
    assert (
        f'<figure><picture><source type="image/webp" srcset="{stem}-320.webp 320w, '
        f'{stem}-640.webp 640w, {stem}-1200.webp 1200w, {stem}-1500.webp 1500w" sizes="{sizes}">'
        f'<img src="{stem}-640.jpg" srcset="{stem}-320.jpg 320w, {stem}-640.jpg 640w, '
        f'{stem}-1200.jpg 1200w, {stem}-1500.jpg 1500w" sizes="{sizes}" width="1500" '
        'height="1000" alt="In the text" loading="lazy" decoding="async"></picture>'
        "<figcaption>In the text</figcaption></figure>"
    ) in html
    assert f'<meta property="og:image" content="http://127.0.0.1{stem}-1200.jpg">' in html
    assert '<img src="http://images.invalid/gone.jpg" alt="Gone" loading="lazy">' in html
    published = {p.name: p for p in (mirrored / "build" / "media").iterdir()}
    assert len(published) == 8 + 4 + 3  # a.jpg: 4 widths × 2; b.png: 2 × 2; c.webp: 3
    for name, path in published.items():
        width = int(name.rsplit("-", 1)[1].split(".")[0])
        with Image.open(path) as image:
            assert (
                image.format == {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[name[-4:].strip(".")]
            )
            assert image.width == width
            assert "exif" not in image.info


def test_remote_images_can_be_left_out_with_their_captions(mirrored: Path) -> None:
    with (mirrored / "newsgen.yaml").open("a", encoding="utf-8") as out:
        out.write("remote_images: omit\n")
    build_site(mirrored)
    html = article_html(mirrored)
    assert "images.invalid" not in html
    assert "<figure>\n<figcaption>Gone</figcaption>\n</figure>" in html


def test_no_rebuild_encodes_a_variant_again(mirrored: Path) -> None:
    config, _ = build_site(mirrored)
    cache = variant_cache_of(mirrored)
    made = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in cache.iterdir()}
    assert len(made) == 15
    import shutil

    shutil.rmtree(config.output_dir)
    build_site(mirrored)
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in cache.iterdir()} == made
    assert len(list((config.output_dir / "media").iterdir())) == 15


def variant_cache_of(site: Path) -> Path:
    class Holder:
        path = site / ".newsgen" / "cache.sqlite"

    return variant_cache(Holder())  # type: ignore[arg-type]


def test_builds_are_deterministic_and_incremental_equals_clean(
    mirrored: Path, tmp_path: Path
) -> None:
    import shutil

    twin = tmp_path / "twin"
    shutil.copytree(mirrored, twin)
    build_site(mirrored)
    build_site(twin)
    assert differing(snapshot(mirrored / "build"), snapshot(twin / "build")) == []
    seed = mirrored / SEED
    seed.write_text(seed.read_text().replace("Senato", "Senato della Repubblica"))
    build_site(mirrored)
    clean = tmp_path / "clean"
    shutil.copytree(mirrored, clean, ignore=shutil.ignore_patterns("build", ".newsgen"))
    build_site(clean)
    assert differing(snapshot(mirrored / "build"), snapshot(clean / "build")) == []


def test_a_fully_mirrored_page_asks_no_other_host_and_every_image_decodes(
    server: Server, tmp_path: Path, browser: Browser
) -> None:
    server.answers = {"/a.jpg": Answer(body=JPEG), "/b.png": Answer(kind="image/png", body=PNG)}
    site = make_site(
        tmp_path / "site", [f"![A]({server.url}/a.jpg)"], [f"![B]({server.url}/b.png)"]
    )
    fetch(site)
    config, _ = build_site(site)
    path = next((config.output_dir / "articles").iterdir()).name
    with serve(config.output_dir) as url:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        asked: list[str] = []
        context.on("request", lambda request: asked.append(request.url))
        page = context.new_page()
        page.goto(f"{url}articles/{path}/")
        page.wait_for_load_state("load")
        sizes = page.eval_on_selector_all(
            "img",
            "images => Promise.all(images.map(async i => { i.loading = 'eager'; "
            "await i.decode(); return [i.currentSrc, i.naturalWidth, i.naturalHeight]; }))",
        )
        context.close()
    own = url.split(SUB_PATH)[0]
    assert [u for u in asked if not u.startswith(own)] == []
    assert len(sizes) == 2
    assert all(src.startswith(own) and width > 0 and height > 0 for src, width, height in sizes)
    assert all("/media/" in src and src.endswith(".webp") for src, _, _ in sizes)


def test_check_lists_the_images_still_remote_and_finds_every_variant(
    mirrored: Path, server: Server
) -> None:
    # Built for a public address: one on 127.0.0.1 (the fixture's) is a problem of its own.
    public = f"https://example.org{SUB_PATH}"
    config, _ = build_site(mirrored, base_url=public)
    page = next((config.output_dir / "articles").iterdir()).name
    ran = in_process("check", "--site", str(mirrored), "--base-url", public)
    code, out, err = ran.lines()
    line = next(
        n
        for n, text in enumerate(article_html(mirrored).splitlines(), start=1)
        if "images.invalid" in text
    )
    feed = (config.output_dir / "feed.xml").read_text(encoding="utf-8").splitlines()
    at = next(n for n, text in enumerate(feed, start=1) if "/a.jpg" in text)
    # The feeds keep the image's source address, here the fixture's server on this machine.
    loopback = (
        f"feed.xml:{at}: link {server.url}/a.jpg points to each reader's own machine (a "
        "loopback host), also in 1 other file; fix or remove it in the article's source"
    )
    assert (code, out) == (1, [loopback])
    assert err[:2] == [
        "Note: 1 image still shown from other hosts; 'newsgen images fetch' mirrors them:",
        f"  articles/{page}/index.html:{line}: http://images.invalid/gone.jpg",
    ]
    (config.output_dir / "media" / sorted(os.listdir(config.output_dir / "media"))[0]).unlink()
    code, out, _ = in_process("check", "--site", str(mirrored), "--base-url", public).lines()
    assert code == 1 and len(out) == 2 and out[0] == loopback
    assert "leads nowhere (no such file in the output)" in out[1]


# --- lead images of curated articles --------------------------------------------------------


def test_a_curated_lead_image_heads_its_page_its_teaser_and_its_card(tmp_path: Path) -> None:
    """`image:` in front matter, a picture in the site: mirrored, it is the figure at the top
    of the article, the teaser's thumbnail and the Open Graph image (its 1200-px variant); the
    seed's gallery under it is not promoted."""
    site = make_site(tmp_path / "s", [], ["![Gallery](images/g.png)"])
    (site / "images").mkdir()
    (site / "images" / "lead.jpg").write_bytes(JPEG)
    (site / "images" / "g.png").write_bytes(PNG)
    (site / "articles").mkdir()
    (site / "articles" / "bilancio.md").write_text(
        f"---\nsource: {SEED}\ntitle: Il bilancio approvato\nimage: images/lead.jpg\n"
        "image_caption: L'aula del Senato\nimage_credit: 'Foto: Senato'\n---\n",
        encoding="utf-8",
    )
    assert fetch(site).summary() == "Images: 2 fetched, 0 already there, 0 failed."
    build_site(site)
    html = article_html(site)
    stem = f"{SUB_PATH}media/{manifest(site)['images/lead.jpg'].sha256[:24]}-{media.ENCODING}"
    top = html.split('<div class="body">', 1)[0]
    assert '<figure class="lead-image"><picture>' in top
    assert f'srcset="{stem}-320.jpg 320w' in top
    assert '<figcaption>L&#39;aula del Senato <span class="credit">Foto: Senato</span>' in top
    assert f'<meta property="og:image" content="http://127.0.0.1{stem}-1200.jpg">' in html
    gallery = html.split('class="source-images"', 1)[1]
    assert "Gallery" in gallery and "lead-image" not in gallery
    front = (site / "build" / "index.html").read_text(encoding="utf-8")
    teaser = front.split('<article class="teaser"', 1)[1].split("</article>", 1)[0]
    assert f'<img src="{stem}-640.jpg" srcset="{stem}-320.jpg 320w' in teaser
    assert 'sizes="6rem" width="1500" height="1000" class="thumb" alt="" loading="lazy"' in teaser


# --- the variants of a rebuild are a clean build's ------------------------------------------

SECOND = "seeds/001_fedcba9876543210.txt"


@pytest.fixture
def two(tmp_path: Path) -> Path:
    """Two articles, each with a picture in the site, mirrored and built."""
    site = make_site(tmp_path / "site", ["![A](images/a.jpg)"])
    (site / SECOND).write_text(
        "Milano – La giunta ha presentato il piano per le nuove linee del tram in città.\n"
        "![B](images/b.png)\nIl consiglio comunale lo discute la prossima settimana.\n",
        encoding="utf-8",
    )
    (site / "images").mkdir()
    (site / "images" / "a.jpg").write_bytes(JPEG)
    (site / "images" / "b.png").write_bytes(PNG)
    assert fetch(site).summary() == "Images: 2 fetched, 0 already there, 0 failed."
    build_site(site)
    return site


def published(site: Path) -> list[str]:
    return sorted(os.listdir(site / "build" / "media"))


def test_variants_deleted_by_hand_are_put_back_by_the_next_build(two: Path, tmp_path: Path) -> None:
    """Also by a rebuild that takes no shortcut for an edit: each finds them missing."""
    names = published(two)
    assert len(names) == 8 + 4
    (two / "build" / "media" / names[0]).unlink()
    _, result = build_site(two)
    assert (result.written, published(two)) == (1, names)
    assert differing(snapshot(two / "build"), clean_build(two, tmp_path / "1")) == []
    (two / "build" / "media" / names[-1]).unlink()
    seed = two / SEED
    seed.write_text(seed.read_text().replace("Senato", "Senato della Repubblica"))
    build_site(two)
    assert published(two) == names
    assert differing(snapshot(two / "build"), clean_build(two, tmp_path / "2")) == []


def test_removing_an_article_or_deleting_build_gives_a_clean_build(
    two: Path, tmp_path: Path
) -> None:
    (two / SECOND).unlink()
    build_site(two)
    assert differing(snapshot(two / "build"), clean_build(two, tmp_path / "1")) == []
    import shutil

    shutil.rmtree(two / "build")
    build_site(two)
    assert differing(snapshot(two / "build"), clean_build(two, tmp_path / "2")) == []


def test_a_changed_image_replaces_its_variants(two: Path, tmp_path: Path) -> None:
    before = published(two)
    old = manifest(two)["images/b.png"].sha256[:24]
    (two / "images" / "b.png").write_bytes(image_bytes("PNG", (900, 600), (10, 10, 10)))
    fetch(two)
    new = manifest(two)["images/b.png"].sha256[:24]
    # Files named as variants are newsgen's (an older encoding's too); others are the user's.
    stray, theirs = f"{'0' * 24}-v0-320.webp", "notes.txt"
    for name in (stray, theirs):
        (two / "build" / "media" / name).write_bytes(b"")
    _, result = build_site(two)
    assert theirs in published(two) and stray not in published(two)
    (two / "build" / "media" / theirs).unlink()  # a clean build has none
    after = published(two)
    assert [n for n in after if n.startswith(old)] == []
    assert len([n for n in after if n.startswith(new)]) == 2 * 3  # 320, 640 and 900 wide
    assert result.removed == 4 + 1 and set(before) - set(after) == {
        n for n in before if n.startswith(old)
    }
    assert differing(snapshot(two / "build"), clean_build(two, tmp_path)) == []


def test_variants_are_recorded_once_not_file_by_file(two: Path) -> None:
    """The output record and the folder's marker name pages and static files; the variants
    are one row (their names), checked against one listing of their folder."""
    from newsgen.cache import Cache

    cache = Cache(two / ".newsgen" / "cache.sqlite")
    try:
        record = cache.outputs(str(two / "build"))
        digest, names = cache.variants(str(two / "build"))
    finally:
        cache.close()
    assert [u for u in record if u.startswith("/media/")] == []
    assert names == published(two) and len(digest) == 32
    listed = (two / "build" / ".newsgen").read_text(encoding="utf-8").splitlines()[1:]
    assert [line for line in listed if line.startswith("media/")] == []


def test_a_record_that_lists_variants_one_by_one_keeps_them(two: Path, tmp_path: Path) -> None:
    """As an older newsgen recorded them: the next full build must not remove them."""
    from newsgen.cache import Cache

    cache = Cache(two / ".newsgen" / "cache.sqlite")
    try:
        name = cache.output_name(str(two / "build"))
        cache.db.executemany(
            "INSERT INTO outputs VALUES (?, ?, ?)",
            [(name, f"/media/{n}", n) for n in published(two)],
        )
    finally:
        cache.close()
    with (two / "newsgen.yaml").open("a", encoding="utf-8") as out:
        out.write("title: Another title\n")
    build_site(two)
    assert len(published(two)) == 12
    assert differing(snapshot(two / "build"), clean_build(two, tmp_path)) == []


def test_a_manifest_checksum_that_is_not_one_is_passed_over() -> None:
    """It names the variants' files: `../` in it would write outside the variant cache."""
    line = "images/a.jpg\tok\ta.jpg\t{}\t480\t320\t\n"
    for sha in ("../../../../tmp/evil", "0" * 63, "A" * 64, ""):
        assert media.parse_line(line.format(sha)) is None
    assert media.parse_line(line.format("ab" * 32)) == media.Entry(
        ref="images/a.jpg", status="ok", file="a.jpg", sha256="ab" * 32, width=480, height=320
    )
    assert media.parse_line(line.format("ab" * 32).replace("\t480\t", "\t0\t")) is None


def test_a_settled_variant_folder_is_listed_only_once_it_changed(
    two: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild that finds the variants' folder complete records its stamp, and the next
    ones trust it while it holds; a variant deleted later changes it (and is put back)."""
    from newsgen.cache import Cache

    settle_outputs(monkeypatch)
    folder = two / "build" / "media"
    names = published(two)
    build_site(two)  # no change: the folder is listed, found complete, its stamp recorded
    cache = Cache(two / ".newsgen" / "cache.sqlite")
    try:
        recorded = cache.variants_stamp(str(two / "build"))
        assert recorded == write.folder_stamp(folder, write.Clock())[0] != ""
    finally:
        cache.close()
    next_tick(two, folder)
    (folder / names[3]).unlink()
    _, result = build_site(two)
    assert (result.written, published(two)) == (1, names)


def test_an_edit_of_the_manifest_alone_is_a_change_of_the_site(tmp_path: Path) -> None:
    """No file of the store changes when a reference is forgotten whose image another one
    shares: the manifest's bytes are part of the store's state all the same."""
    site = make_site(tmp_path / "site", ["![A](images/a.jpg)", "![Copy](images/copy.jpg)"])
    (site / "images").mkdir()
    (site / "images" / "a.jpg").write_bytes(JPEG)
    (site / "images" / "copy.jpg").write_bytes(JPEG)
    fetch(site)
    assert len(store_files(site)) == 2  # one image (stored once) and the manifest
    build_site(site)
    assert article_html(site).count("<picture>") == 2
    text = (site / "media" / media.MANIFEST).read_text(encoding="utf-8")
    forgotten = "".join(line for line in text.splitlines(True) if "copy.jpg" not in line)
    (site / "media" / media.MANIFEST).write_text(forgotten, encoding="utf-8")
    _, result = build_site(site)
    assert result.written > 0 and article_html(site).count("<picture>") == 1
    assert differing(snapshot(site / "build"), clean_build(site, tmp_path)) == []
