"""`newsgen check`: a clean build passes; each kind of breakage is named, file and line."""

from __future__ import annotations

import http.server
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsgen.check import check_site, scan_html, scan_xml
from tests.conftest import MakeSite, build_site
from tests.site_pages import serve
from tests.util import in_process

BASE = "https://example.org/archivio/"
SEEDS = {
    "seeds/a.txt": "Roma – Primo articolo di prova, con un testo abbastanza lungo da leggere.\n",
    "seeds/b.txt": "Milano – Secondo articolo di prova, anche questo con un testo lungo.\n",
    "seeds/c.txt": "Napoli – Terzo articolo di prova, l'ultimo della piccola serie.\n",
    "newsgen.yaml": f"base_url: {BASE}\nlanguage: it\nper_page: 2\n",
}
A = "articles/primo-articolo-di-prova-con-un-testo-abbastanza-lungo-da-leggere"
B = "articles/secondo-articolo-di-prova-anche-questo-con-un-testo-lungo"


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    site = make_site(SEEDS)
    _, result = build_site(site)
    assert result.problems == ()
    return site


def check(site: Path, *args: str) -> tuple[int, list[str], str]:
    ran = in_process("check", "--site", str(site), "--jobs", "1", *args)
    return ran.code, ran.out.splitlines(), ran.err


def on_this_machine(where: str, url: str) -> str:
    """The problem of a link to a loopback host in an article (the outside links these tests
    fetch are all on 127.0.0.1): named where first found, the page; the two feeds hold it too."""
    return (
        f"{where}: link {url} points to each reader's own machine (a loopback host), also in "
        "2 other files; fix or remove it in the article's source"
    )


def line_of(path: Path, needle: str) -> int:
    """The line of `path` that holds `needle`: the checker names lines, and the templates
    belong to someone else."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_a_fresh_build_has_no_problems(site: Path) -> None:
    code, lines, err = check(site)
    assert (code, lines) == (0, [])
    assert err.startswith("Checked 20 files, ") and err.endswith(": 0 problems.\n")


def test_the_sample_site_has_no_problems(sample_site: tuple[object, object]) -> None:
    config, _ = sample_site
    report = check_site(config.output_dir, config.base_url)  # type: ignore[attr-defined]
    assert report.problems == ()
    assert report.pages > 40


def test_a_missing_page_is_named_by_every_page_and_sitemap_that_links_to_it(site: Path) -> None:
    shutil.rmtree(site / "build" / B)
    code, lines, _ = check(site)
    href = f"/archivio/{B}/"
    sitemap = f"sitemap.xml: link {BASE}{B}/ leads nowhere (no such file in the output)"
    index = site / "build" / "index.html"
    from_index = (
        f"index.html:{line_of(index, href)}: link {href} leads nowhere (no such file in the output)"
    )
    assert code == 1
    assert sitemap in lines
    assert from_index in lines
    assert all("leads nowhere" in line for line in lines)


def test_a_missing_stylesheet_is_reported_on_every_page(site: Path) -> None:
    (style,) = (site / "build" / "assets").glob("style.*.css")  # named by its content
    style.unlink()
    _, lines, _ = check(site)
    pages = sorted(p for p in (site / "build").rglob("*.html"))
    assert len(lines) == len(pages)
    index = site / "build" / "index.html"
    css = f"/archivio/assets/{style.name}"
    assert (
        f"index.html:{line_of(index, css)}: link {css} leads nowhere (no such file in the output)"
        in lines
    )


def test_unbalanced_html_is_named_with_lines() -> None:
    page = (
        "<!DOCTYPE html>\n<html><head><title>t</title></head><body>\n"
        "<div><span>x</div>\n<section>\n<p>open paragraph\n</em>\n"
        '<a id="x"></a><b id="x"></b><br/><div/>\n</body></html>\n'
    )
    assert scan_html("p.html", page).problems == (
        "p.html:3: </div> closes <span> opened on line 3",
        "p.html:6: </em> closes nothing",
        "p.html:7: id 'x' is used twice",
        "p.html:7: <div/> is not a void element; HTML leaves it open",
        "p.html:8: </body> closes <section> opened on line 4",
        "p.html:8: </body> closes <div> opened on line 7",
    )


def test_a_page_without_doctype_or_title_is_reported() -> None:
    assert scan_html("p.html", "<html><body><p>x</p></body></html>").problems == (
        "p.html:1: no <!DOCTYPE html>",
        "p.html:1: a page needs exactly one non-empty <title>",
    )


def test_a_broken_fragment_is_reported(site: Path) -> None:
    page = site / "build" / A / "index.html"
    page.write_text(page.read_text().replace('href="#main"', 'href="#nowhere"'))
    _, lines, _ = check(site)
    assert lines == [
        f"{A}/index.html:{line_of(page, '#nowhere')}: link #nowhere: no id 'nowhere' on "
        f"{A}/index.html"
    ]


def test_a_link_whose_host_urllib_cannot_read_is_reported_not_a_crash(site: Path) -> None:
    page = site / "build" / A / "index.html"
    page.write_text(page.read_text().replace('href="#main"', 'href="https://[x/"'))
    _, lines, _ = check(site)
    line = line_of(page, "https://[x/")
    assert lines == [
        f"{A}/index.html:{line}: link https://[x/ has a host that is no host; fix or remove it"
    ]


def test_a_link_outside_the_base_path_is_reported(site: Path) -> None:
    page = site / "build" / A / "index.html"
    page.write_text(page.read_text().replace('href="/archivio/tags/"', 'href="/tags/"'))
    _, lines, _ = check(site)
    line = line_of(page, 'href="/tags/"')
    assert lines == [f"{A}/index.html:{line}: link /tags/ is outside the site's path /archivio/"]


def test_an_orphaned_page_is_reported(site: Path) -> None:
    (site / "build" / "extra").mkdir()
    (site / "build" / "extra" / "index.html").write_text(
        "<!DOCTYPE html>\n<html><head><title>Extra</title></head><body></body></html>\n"
    )
    (site / "build" / "moved.html").write_text(
        '<!DOCTYPE html>\n<html><head><title>Moved</title><meta http-equiv="refresh" '
        'content="0; url=/archivio/"></head><body></body></html>\n'
    )
    _, lines, _ = check(site)
    assert lines == [
        "extra/index.html: orphaned: no page reachable from the front page links to it"
    ]


def test_a_feed_without_required_fields_is_reported(site: Path) -> None:
    feed = site / "build" / "feed.xml"
    text = feed.read_text()
    kept = [line for line in text.splitlines() if not line.startswith(("<updated>", "<author>"))]
    feed.write_text("\n".join(kept).replace("<id>urn:", "<id>", 1))
    _, lines, _ = check(site)
    assert lines == [
        "feed.xml: feed has no <updated>",
        "feed.xml: entry 1 has no <updated>",
        "feed.xml: entry 1 has no <author>, nor has the feed",
        "feed.xml: entry 2 has no <updated>",
        "feed.xml: entry 2 has no <author>, nor has the feed",
        "feed.xml: entry 3 has no <updated>",
        "feed.xml: entry 3 has no <author>, nor has the feed",
    ]


def test_a_feed_that_is_not_xml_is_reported() -> None:
    assert scan_xml("feed.xml", b"<feed><title>x & y</title></feed>").problems == (
        "feed.xml:1: not well-formed XML (not well-formed (invalid token): line 1, column 16)",
    )


def test_a_sitemap_in_the_wrong_namespace_is_reported() -> None:
    data = b'<urlset xmlns="http://example.org/"><url><loc>https://x/</loc></url></urlset>'
    assert scan_xml("sitemap.xml", data).problems == (
        "sitemap.xml: not a sitemap: the root must be <urlset> or <sitemapindex> in the "
        "namespace http://www.sitemaps.org/schemas/sitemap/0.9",
    )


def test_a_sitemap_listing_a_page_of_another_site_is_reported(site: Path) -> None:
    sitemap = site / "build" / "sitemap.xml"
    sitemap.write_text(sitemap.read_text().replace(f">{BASE}archive/<", ">https://example.org/x/<"))
    _, lines, _ = check(site)
    assert lines == [
        "sitemap.xml: link https://example.org/x/ is outside the site's path /archivio/"
    ]


def test_no_built_site_is_an_error(make_site: MakeSite) -> None:
    site = make_site(SEEDS)
    code, lines, err = check(site)
    assert (code, lines) == (1, [])
    assert err == f"Error: {site / 'build'} holds no built site; run 'newsgen build' first\n"


# --- outside links, against a local server only -------------------------------------------


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "ok.html").write_text("ok")
    with serve(root, "/") as url:
        yield url.rstrip("/")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: only a timeout ends the wait."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


def test_external_links_are_checked_with_a_timeout(
    make_site: MakeSite, local_server: str, silent_port: int, tmp_path: Path
) -> None:
    """Links that answer are checked with a timeout no machine reaches; the silent one, alone
    on the site, with a short one that only it can reach, since it never answers."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    body = (
        "Roma – Un articolo con collegamenti esterni da controllare, "
        f"[buono]({local_server}/ok.html), "
        f"[rotto]({local_server}/missing.html) e [chiuso](http://127.0.0.1:{closed_port}/).\n"
    )
    site = make_site({**SEEDS, "seeds/a.txt": body})
    build_site(site)
    code, lines, err = check(site, "--external", "--timeout", "60")
    page = next((site / "build" / "articles").glob("un-articolo-*/index.html"))
    name = page.relative_to(site / "build").as_posix()
    line = line_of(page, "ok.html")
    assert code == 1
    assert sorted(lines) == sorted(
        [
            f"{name}:{line}: link {local_server}/missing.html is broken (HTTP 404)",
            f"{name}:{line}: link http://127.0.0.1:{closed_port}/ is broken "
            "(no answer: [Errno 111] Connection refused)",
            *(
                on_this_machine(f"{name}:{line}", url)
                for url in (
                    f"{local_server}/ok.html",
                    f"{local_server}/missing.html",
                    f"http://127.0.0.1:{closed_port}/",
                )
            ),
        ]
    )
    assert ", 3 outside links: 5 problems." in err
    silent = f"Roma – Un articolo con un collegamento [muto](http://127.0.0.1:{silent_port}/).\n"
    site = make_site({**SEEDS, "seeds/a.txt": silent}, tmp_path / "silent")
    build_site(site)
    code, lines, err = check(site, "--external", "--timeout", "0.2")
    page = next((site / "build" / "articles").glob("un-articolo-*/index.html"))
    name, line = page.relative_to(site / "build").as_posix(), line_of(page, f":{silent_port}/")
    assert code == 1
    assert lines == [
        on_this_machine(f"{name}:{line}", f"http://127.0.0.1:{silent_port}/"),
        f"{name}:{line}: link http://127.0.0.1:{silent_port}/ is broken (no answer: timed out)",
    ]
    assert ", 1 outside link: 2 problems." in err


def test_without_external_no_outside_link_is_fetched(make_site: MakeSite) -> None:
    body = (
        "Roma – Un articolo con un collegamento [esterno](http://127.0.0.1:9/) non controllato.\n"
    )
    site = make_site({**SEEDS, "seeds/a.txt": body})
    build_site(site)
    page = next((site / "build" / "articles").glob("un-articolo-*/index.html"))
    name = page.relative_to(site / "build").as_posix()
    where = f"{name}:{line_of(page, '127.0.0.1:9')}"
    # Not fetched: only the link's loopback host is a problem, not an answer.
    assert check(site)[:2] == (1, [on_this_machine(where, "http://127.0.0.1:9/")])


# --- what a damaged or hand-made site holds -------------------------------------------------


def test_a_page_that_is_not_utf8_is_reported(site: Path) -> None:
    page = site / "build" / A / "index.html"
    data = page.read_bytes()
    at = data.index(b"</main>")
    page.write_bytes(data[:at] + b"<p>caf\xe9</p>" + data[at:])
    code, lines, _ = check(site)
    assert (code, lines) == (1, [f"{A}/index.html: not UTF-8 (byte {at + 6}); rebuild"])


def test_an_element_never_closed_is_named_with_its_line() -> None:
    page = (
        "<!DOCTYPE html>\n<html><head><title>t</title></head><body>\n"
        "<main><p>one<br></br>\n<li>two\n"
    )
    assert scan_html("p.html", page).problems == ("p.html:3: <main> is never closed",)


def test_a_feed_time_that_is_not_rfc3339_is_reported() -> None:
    feed = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>t</title>'
        b"<updated>2022-03-29</updated><author><name>a</name></author>"
        b"<entry><id>urn:y</id><title>e</title><updated>29 Mar 2022 10:00</updated></entry>"
        b"</feed>"
    )
    assert scan_xml("feed.xml", feed).problems == (
        "feed.xml: feed <updated> '2022-03-29' is not an RFC 3339 time",
        "feed.xml: entry 1 <updated> '29 Mar 2022 10:00' is not an RFC 3339 time",
    )


def test_an_empty_or_overfull_sitemap_is_reported() -> None:
    def sitemap(*locs: str) -> bytes:
        urls = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
        return (
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()
        )

    wanted = "sitemap.xml: every <url> needs a <loc>, and a sitemap at least one"
    assert scan_xml("sitemap.xml", sitemap()).problems == (wanted,)
    assert scan_xml("sitemap.xml", sitemap(BASE, " ")).problems == (wanted,)
    locs = [f"{BASE}{n}/" for n in range(50_001)]
    assert scan_xml("sitemap.xml", sitemap(*locs[:50_000])).problems == ()
    full = scan_xml("sitemap.xml", sitemap(*locs))
    assert full.problems == ("sitemap.xml: 50,001 URLs; a sitemap may list 50,000",)
    assert scan_xml("other.xml", b"<other><loc>x</loc></other>").problems == ()


def test_a_site_without_a_front_page_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        "<!DOCTYPE html>\n<html><head><title>A</title></head><body></body></html>\n"
    )
    assert check_site(tmp_path, BASE).problems == ("index.html: the site has no front page",)


def test_mail_and_phone_links_are_not_outside_links_to_fetch(make_site: MakeSite) -> None:
    body = (
        "Roma – Un articolo che si chiude con [una mail](mailto:redazione@example.org) e "
        "[un telefono](tel:+390612345678) della redazione.\n"
    )
    site = make_site({**SEEDS, "seeds/a.txt": body})
    build_site(site)
    code, lines, err = check(site, "--external")
    assert (code, lines) == (0, [])
    assert ", 0 outside links: 0 problems." in err


class _NoHead(http.server.BaseHTTPRequestHandler):
    """A server that refuses HEAD, as many do: GET /ok is 200, anything else 404."""

    def do_HEAD(self) -> None:
        self.send_error(405)

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ok" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_server_that_refuses_head_is_asked_with_get(make_site: MakeSite) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoHead)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,))
    thread.start()
    try:
        root = f"http://127.0.0.1:{server.server_address[1]}"
        body = f"Roma – Un articolo con [un link]({root}/ok) e [un altro]({root}/gone).\n"
        site = make_site({**SEEDS, "seeds/a.txt": body})
        build_site(site)
        code, lines, _ = check(site, "--external")
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    page = next((site / "build" / "articles").glob("un-articolo-*/index.html"))
    name = page.relative_to(site / "build").as_posix()
    where = f"{name}:{line_of(page, '/gone')}"
    assert (code, lines) == (
        1,
        [
            on_this_machine(where, f"{root}/ok"),
            on_this_machine(where, f"{root}/gone"),
            f"{where}: link {root}/gone is broken (HTTP 404)",
        ],
    )
