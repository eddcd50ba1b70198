"""`newsgen check` on a site built for this machine: every absolute URL to a loopback host
(feeds' ids and links, the sitemap, robots.txt's Sitemap line, canonical and og:url links,
JSON-LD, _headers, _redirects...) is a problem naming the file, the line and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsgen.check import loopback_urls
from newsgen.result import is_loopback
from tests.conftest import MakeSite, build_site
from tests.util import in_process

PUBLIC = "https://example.org/archivio/"
SEEDS = {
    "seeds/a.txt": "Roma – Primo articolo di prova, con un testo abbastanza lungo da leggere.\n",
    "seeds/b.txt": "Milano – Secondo articolo di prova, anche questo con un testo lungo.\n",
    "seeds/c.txt": "Napoli – Terzo articolo di prova, l'ultimo della piccola serie.\n",
}
BUILT = (
    "points to this machine, not to the published site; set base_url in newsgen.yaml to the "
    "site's public address (or build with --base-url URL), then build again"
)


def check(site: Path, *args: str) -> tuple[int, list[str], list[str]]:
    return in_process("check", "--site", str(site), "--jobs", "1", *args).lines()


def first(path: Path, needle: str) -> tuple[int, int]:
    """(line of the first occurrence of `needle` in `path`, occurrences)."""
    text = path.read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1, text.count(needle)


def test_a_site_built_with_the_default_base_url_fails_naming_feeds_sitemap_and_robots(
    make_site: MakeSite,
) -> None:
    site = make_site(SEEDS)  # no base_url: http://localhost:8000/
    config, _ = build_site(site)
    out = config.output_dir
    code, lines, err = check(site)
    assert code == 1
    # The files made only of URLs first, then every page; past five files, a count.
    texts = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.suffix in (".xml", ".txt") and "localhost" in p.read_text(encoding="utf-8")
    )
    pages = [p for p in out.rglob("*.html") if "http://localhost:8000/" in p.read_text()]
    assert texts[:3] == ["feed.xml", "places/milano/feed.xml", "places/napoli/feed.xml"]
    assert {"robots.txt", "sitemap.xml"} <= set(texts)
    expected = []
    for name in texts[:5]:
        line, count = first(out / name, "http://localhost:8000/")
        text = (out / name).read_text(encoding="utf-8").splitlines()[line - 1]
        url = text[text.index("http://localhost:8000/") :].split("<")[0].split('"')[0].split()[0]
        more = (
            f" (and {count - 1} other{'s' if count > 2 else ''} in the file)" if count > 1 else ""
        )
        expected.append(f"{name}:{line}: {url}{more} {BUILT}")
    rest = len(texts) + len(pages) - 5
    expected.append(
        f"... and {rest} more files with URLs to this machine (base_url http://localhost:8000/); "
        "set base_url in newsgen.yaml to the site's public address"
    )
    assert lines == expected
    assert err[-1].endswith(": 6 problems.")
    # Checked as if it were for another address, the files still say this machine's.
    assert check(site, "--base-url", PUBLIC)[0] == 1


def test_robots_sitemap_line_and_json_ld_are_read_too(make_site: MakeSite) -> None:
    site = make_site({**SEEDS, "newsgen.yaml": f"base_url: {PUBLIC}\n"})
    config, _ = build_site(site)
    out = config.output_dir
    assert check(site)[:2] == (0, [])
    robots = out / "robots.txt"
    robots.write_text(
        robots.read_text().replace(PUBLIC, "http://127.0.0.1:8000/archivio/"), encoding="utf-8"
    )
    page = out / "index.html"
    html = page.read_text(encoding="utf-8")
    at = html.index("</head>")
    data = '<script type="application/ld+json">{"url":"http:\\/\\/[::1]\\/archivio\\/"}</script>'
    page.write_text(html[:at] + data + "\n" + html[at:], encoding="utf-8")
    code, lines, _ = check(site)
    line = html[:at].count("\n") + 1
    sitemap_line = first(robots, "Sitemap:")[0]
    assert (code, lines) == (
        1,
        [
            f"robots.txt:{sitemap_line}: http://127.0.0.1:8000/archivio/sitemap.xml {BUILT}",
            f"index.html:{line}: link http://[::1]/archivio/ points to each reader's own "
            "machine (a loopback host); fix or remove it in the article's source",
        ],
    )


def test_a_link_to_this_machine_in_an_article_is_named_once(make_site: MakeSite) -> None:
    body = "Roma – Un articolo che rimanda a [un indirizzo locale](http://localhost:3000/x).\n"
    site = make_site({**SEEDS, "seeds/a.txt": body, "newsgen.yaml": f"base_url: {PUBLIC}\n"})
    config, _ = build_site(site)
    page = next(config.output_dir.glob("articles/un-articolo-*/index.html"))
    name = page.relative_to(config.output_dir).as_posix()
    feeds = [p for p in config.output_dir.rglob("feed.xml") if "localhost:3000" in p.read_text()]
    code, lines, _ = check(site)
    assert (code, lines) == (
        1,
        [
            f"{name}:{first(page, 'localhost:3000')[0]}: link http://localhost:3000/x points "
            f"to each reader's own machine (a loopback host), also in {len(feeds)} other "
            "files; fix or remove it in the article's source"
        ],
    )


def test_headers_and_redirects_files_are_read(make_site: MakeSite) -> None:
    site = make_site({**SEEDS, "newsgen.yaml": f"base_url: {PUBLIC}\n"})
    config, _ = build_site(site)
    (config.output_dir / "_redirects").write_text("/archivio/x/ http://0.0.0.0:8000/y/ 301\n")
    code, lines, _ = check(site)
    assert (code, lines) == (
        1,
        [
            "_redirects:1: link http://0.0.0.0:8000/y/ points to each reader's own machine (a "
            "loopback host); fix or remove it in the article's source"
        ],
    )


@pytest.mark.parametrize(
    "host",
    [
        *("localhost", "LOCALHOST.", "news.localhost", "127.0.0.1", "127.9.8.7", "127.1"),
        *("0x7f.1", "2130706433", "0.0.0.0", "[::1]", "[::ffff:127.0.0.1]", "[::]"),
    ],
)
def test_every_spelling_of_this_machine_is_loopback(host: str) -> None:
    assert is_loopback(host)
    assert loopback_urls(f'<a href="http://{host}:8000/x">') == ((1, f"http://{host}:8000/x"),)


@pytest.mark.parametrize(
    "host", ["example.org", "localhost.example.org", "10.0.0.1", "192.168.1.1", "[2001:db8::1]"]
)
def test_other_hosts_are_not(host: str) -> None:
    assert not is_loopback(host)
    assert loopback_urls(f'<a href="https://{host}/x">') == ()


def test_a_url_ends_where_an_escaped_quote_or_bracket_does() -> None:
    feed = "<content>&lt;a href=&#34;http://localhost/a?b=1&amp;c=2&#34;&gt;x&lt;/a&gt;</content>"
    assert loopback_urls(feed) == ((1, "http://localhost/a?b=1&amp;c=2"),)
    assert loopback_urls('x\n{"u": "https:\\/\\/localhost\\/p"}') == ((2, "https://localhost/p"),)
