"""newsgen.headers: the `_headers` file read as Netlify and Cloudflare Pages read it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from newsgen import headers, publish
from newsgen.config import ConfigError, load_config
from tests.conftest import MakeSite, build_site
from tests.util import copy_inputs

TEXT = """\
# a comment
/*
  X-Content-Type-Options: nosniff
  Link: </a.css>; rel=preload
  Link: </b.css>; rel=preload

/assets/*
  Cache-Control: public, max-age=31536000, immutable
/pagefind/:shard/fragment/*
  Cache-Control: public, max-age=31536000, immutable
/pagefind/:shard/*.pf_meta
  Cache-Control: public, max-age=31536000, immutable
/secret/*
  ! X-Content-Type-Options
  x-content-type-options: none
https://example.org/*
  X-Robots-Tag: noindex
"""


def test_parse_keeps_rules_in_order() -> None:
    rules = headers.parse(TEXT)
    assert [r.pattern for r in rules] == [
        "/*",
        "/assets/*",
        "/pagefind/:shard/fragment/*",
        "/pagefind/:shard/*.pf_meta",
        "/secret/*",
        "https://example.org/*",
    ]
    assert rules[4].detach == ("X-Content-Type-Options",)
    assert headers.parse(headers.render(rules)) == rules


def test_for_path_joins_matching_rules() -> None:
    rules = headers.parse(TEXT)
    assert headers.for_path(rules, "/") == {
        "X-Content-Type-Options": "nosniff",
        "Link": "</a.css>; rel=preload, </b.css>; rel=preload",
    }
    assert headers.for_path(rules, "/assets/style.0123abcd.css")["Cache-Control"] == (
        "public, max-age=31536000, immutable"
    )


@pytest.mark.parametrize(
    ("path", "immutable"),
    [
        ("/pagefind/en/fragment/en_1a2b3c.pf_fragment", True),
        ("/pagefind/en/pagefind.en_1a2b3c.pf_meta", True),
        ("/pagefind/en/pagefind.js", False),
        ("/pagefind/en/wasm.en.pagefind", False),
        ("/pagefind/fragment/x.pf_fragment", False),  # `:shard` is one segment, not none
        ("/pagefind/a/b/fragment/x.pf_fragment", False),
    ],
)
def test_placeholders_match_one_segment(path: str, immutable: bool) -> None:
    found = headers.for_path(headers.parse(TEXT), path)
    assert ("Cache-Control" in found) is immutable


def test_detach_drops_an_earlier_rules_header() -> None:
    found = headers.for_path(headers.parse(TEXT), "/secret/x")
    assert found["x-content-type-options"] == "none"
    assert "X-Content-Type-Options" not in found


def test_absolute_url_rules_match_no_bare_path() -> None:
    assert "X-Robots-Tag" not in headers.for_path(headers.parse(TEXT), "/example.org/")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  X-A: b\n", "_headers:1: a header before any URL pattern: 'X-A: b'"),
        ("/*\n  X-A\n", "_headers:2: expected 'Name: value', found 'X-A'"),
        ("/*\n  X-A:\n", "_headers:2: expected 'Name: value', found 'X-A:'"),
        ("/*\n  !\n", "_headers:2: '!' names no header"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(headers.HeadersError) as error:
        headers.parse(text)
    assert str(error.value) == message


def test_patterns_are_literal_but_for_wildcards() -> None:
    assert headers.matches("/feed.xml", "/feed.xml")
    assert not headers.matches("/feed.xml", "/feedaxml")
    assert headers.matches("/*", "/")
    assert headers.matches("/*.xml", "/tags/a/feed.xml")
    assert not headers.matches("/tags/*", "/tags")


# --- the file a build writes ----------------------------------------------------------------

IMMUTABLE_FILES = [
    "/archivio/assets/style.1a2b3c4d.css",
    "/archivio/media/0123abcd-640.webp",
    "/archivio/pagefind/it-0/pagefind.it_eeac6b965f.pf_meta",
    "/archivio/pagefind/it-0/fragment/it_74dd6df.pf_fragment",
    "/archivio/pagefind/it-0/index/it_64b6b38.pf_index",
    "/archivio/pagefind/it-0/filter/it_1cca542.pf_filter",
]
REVALIDATED_FILES = [
    "/archivio/",
    "/archivio/page/2/",
    "/archivio/articles/x/",
    "/archivio/archive/2012/07/",
    "/archivio/places/roma/",
    "/archivio/places/roma/feed.xml",
    "/archivio/tags/a/page/2/",
    "/archivio/languages/fr/feed.xml",
    "/archivio/search/",
    "/archivio/feed.xml",
    "/archivio/sitemap.xml",
    "/archivio/sitemap-2.xml",
    "/archivio/robots.txt",
    "/archivio/404.html",
    "/archivio/_redirects",
    "/archivio/pagefind/shards.json",
    "/archivio/pagefind/it-0/pagefind.js",
    "/archivio/pagefind/it-0/pagefind-worker.js",
    "/archivio/pagefind/it-0/pagefind-entry.json",
    "/archivio/pagefind/it-0/wasm.it.pagefind",
    "/archivio/pagefind/it-0/wasm.unknown.pagefind",
]


def cache_rules(rules: list[headers.Rule], path: str) -> list[str]:
    return [
        r.pattern
        for r in rules
        if headers.matches(r.pattern, path) and any(n == "Cache-Control" for n, _ in r.headers)
    ]


@pytest.mark.parametrize("path", IMMUTABLE_FILES + REVALIDATED_FILES)
def test_one_rule_at_most_gives_a_path_its_caching(path: str) -> None:
    """Cloudflare Pages would join two values of one header, Netlify keep the later one."""
    rules = headers.site_rules("/archivio/", set())
    assert len(cache_rules(rules, path)) == 1, path
    expected = headers.IMMUTABLE if path in IMMUTABLE_FILES else headers.REVALIDATE
    assert headers.for_path(rules, path)["Cache-Control"] == expected


def test_every_path_gets_the_security_headers() -> None:
    rules = headers.site_rules("/archivio/", {"https://img.example.org"})
    for path in [*IMMUTABLE_FILES, *REVALIDATED_FILES, "/archivio/old/alias.html"]:
        sent = headers.for_path(rules, path)
        assert sent["X-Content-Type-Options"] == "nosniff"
        assert sent["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "camera=()" in sent["Permissions-Policy"]
        policy = dict(d.split(" ", 1) for d in sent["Content-Security-Policy"].split("; "))
        assert policy["img-src"] == "'self' data: https://img.example.org"
        assert policy["script-src"] == "'self' 'wasm-unsafe-eval'"
        assert policy["style-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in sent["Content-Security-Policy"]
    assert "Cache-Control" not in headers.for_path(rules, "/archivio/old/alias.html")


def test_a_sites_headers_and_sources_are_added() -> None:
    rules = headers.site_rules(
        "/",
        set(),
        csp=(("img-src", ("https://cdn.example.org",)), ("media-src", ("https://v.example.org",))),
        extra=(
            ("/*", (("Strict-Transport-Security", "max-age=63072000"),)),
            ("/assets/*", (("cache-control", "public, max-age=600"),)),
            ("/private/*", (("X-Robots-Tag", "noindex"),)),
        ),
    )
    sent = headers.for_path(rules, "/assets/style.1a2b3c4d.css")
    assert sent["Strict-Transport-Security"] == "max-age=63072000"
    assert sent["cache-control"] == "public, max-age=600"  # replaced, not joined
    assert "Cache-Control" not in sent
    policy = sent["Content-Security-Policy"]
    assert "img-src 'self' data: https://cdn.example.org;" in policy
    assert policy.endswith("; media-src https://v.example.org")
    assert headers.for_path(rules, "/private/a/")["X-Robots-Tag"] == "noindex"


def test_the_file_records_the_image_hosts() -> None:
    hosts = {"https://b.example.org", "https://a.example.org"}
    text = headers.file_text(headers.site_rules("/", hosts), hosts)
    assert headers.recorded_hosts(text) == frozenset(hosts)
    assert headers.recorded_hosts(headers.file_text(headers.site_rules("/", set()), set())) == (
        frozenset()
    )
    assert headers.recorded_hosts("/*\n  X-A: b\n") is None
    assert headers.parse(text)  # comments and all, a file both hosts read


def test_image_hosts_are_the_origins_of_img_and_source() -> None:
    page = (
        b'<img src="https://A.example.org/x.jpg?a=1&amp;b=2" alt="">'
        b'<picture><source srcset="https://b.example.org/1.webp 1x, /media/x.webp 2x">'
        b'<img src="/media/y.jpg" alt=""></picture>'
        b'<a href="https://c.example.org/">a link</a><img src="data:image/png;base64,AA" alt="">'
        b'<meta property="og:image" content="https://d.example.org/og.jpg">'
    )
    assert headers.image_hosts(page) == {"https://a.example.org", "https://b.example.org"}


# --- what builds write ----------------------------------------------------------------------

SITE = {
    "newsgen.yaml": "title: Prova\nbase_url: https://example.org/\nlanguage: it\n",
    "seeds/a.txt": "Roma – Il consiglio ha approvato il bilancio della città.\n",
    "articles/b.md": (
        "---\ntitle: Una mostra\ndate: 2024-05-01\n---\nMilano – Una mostra apre.\n\n"
        "![La sala](https://img.example.org/sala.jpg)\n"
    ),
}


def policy_of(output: Path) -> dict[str, str]:
    sent = headers.for_path(headers.parse((output / "_headers").read_text()), "/")
    return dict(d.split(" ", 1) for d in sent["Content-Security-Policy"].split("; "))


def test_img_src_follows_the_images_the_pages_show(make_site: MakeSite, tmp_path: Path) -> None:
    """A host is allowed while a page shows an image of it, across rebuilds that add and
    remove them; a rebuild's file equals a clean build's."""
    site = make_site(SITE)
    config, _ = build_site(site)
    assert policy_of(config.output_dir)["img-src"] == "'self' data: https://img.example.org"
    article = site / "articles" / "b.md"
    text = article.read_text()
    article.write_text(text + "\n![Altra](https://other.example.net/b.png)\n")
    build_site(site)
    assert policy_of(config.output_dir)["img-src"] == (
        "'self' data: https://img.example.org https://other.example.net"
    )
    assert (config.output_dir / "_headers").read_bytes() == clean_headers(site, tmp_path / "1")
    article.write_text(text.replace("![La sala](https://img.example.org/sala.jpg)", ""))
    build_site(site)
    assert policy_of(config.output_dir)["img-src"] == "'self' data:"
    assert (config.output_dir / "_headers").read_bytes() == clean_headers(site, tmp_path / "2")


def test_an_unrelated_edit_keeps_the_hosts_without_reading_every_page(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(SITE)
    config, _ = build_site(site)
    before = (config.output_dir / "_headers").read_bytes()
    read: list[str] = []
    hosts_in = publish._hosts_in

    def reading(output: Path, urls: Iterable[str]) -> set[str]:
        urls = list(urls)
        read.extend(urls)
        return hosts_in(output, urls)

    monkeypatch.setattr(publish, "_hosts_in", reading)
    seed = site / "seeds" / "a.txt"
    seed.write_text(seed.read_text() + "Un secondo paragrafo.\n")
    build_site(site)
    assert (config.output_dir / "_headers").read_bytes() == before
    assert not any("mostra" in url for url in read)


def test_with_remote_images_omitted_no_host_is_allowed(make_site: MakeSite) -> None:
    site = make_site({**SITE, "newsgen.yaml": SITE["newsgen.yaml"] + "remote_images: omit\n"})
    config, _ = build_site(site)
    assert policy_of(config.output_dir)["img-src"] == "'self' data:"


def clean_headers(site: Path, where: Path) -> bytes:
    where.mkdir()
    config, _ = build_site(copy_inputs(site, where / "site"))
    return (config.output_dir / "_headers").read_bytes()


def test_settings_reach_the_file(make_site: MakeSite) -> None:
    site = make_site(
        {
            **SITE,
            "newsgen.yaml": SITE["newsgen.yaml"].replace("example.org/", "example.org/news/")
            + "headers:\n  /*:\n    Strict-Transport-Security: max-age=600\n"
            + "csp:\n  font-src: [https://fonts.example.org]\n",
        }
    )
    config, _ = build_site(site)
    rules = headers.parse((config.output_dir / "_headers").read_text())
    sent = headers.for_path(rules, "/news/articles/x/")
    assert sent["Strict-Transport-Security"] == "max-age=600"
    assert "font-src 'self' https://fonts.example.org;" in sent["Content-Security-Policy"]
    assert headers.for_path(rules, "/news/assets/style.1a2b3c4d.css")["Cache-Control"] == (
        headers.IMMUTABLE
    )


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        (
            "headers: [a]",
            "'headers': expected a mapping of URL patterns to headers, such as "
            "{'/*': {'X-Robots-Tag': 'noindex'}}, got ['a']",
        ),
        (
            "headers: {'*': {A: b}}",
            "'headers': a URL pattern is a path from the site's root such as '/*', got '*'",
        ),
        ("headers: {/*: {'X Bad': b}}", "'headers': '/*': 'X Bad' is not a header name"),
        ("headers: {/*: {A: [b]}}", "'headers': '/*': 'A': expected a text value, got ['b']"),
        (
            'headers: {/*: {A: "b\\nC: d"}}',
            "'headers': '/*': 'A': expected one line of text, got 'b\\nC: d'",
        ),
        (
            "headers: {/*: []}",
            "'headers': '/*': expected a mapping of header names to values, got []",
        ),
        (
            "csp: {img-scr: [a.org]}",
            "'csp': 'img-scr' is not a directive newsgen sets; did you mean 'img-src'?",
        ),
        (
            "csp: {img-src: ['a.org; script-src *']}",
            "'csp': 'img-src': 'a.org; script-src *' is not a source; give a host such as "
            "'https://cdn.example.org', a scheme such as 'data:' or a keyword",
        ),
        ("csp: {img-src: 3}", "'csp': 'img-src': expected a list of sources, got 3"),
        ("compress: yes please", "'compress': expected true or false, got 'yes please'"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, setting: str, problem: str) -> None:
    (tmp_path / "newsgen.yaml").write_text(setting + "\n")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    assert error.value.problems == [f"newsgen.yaml: {problem}"]
