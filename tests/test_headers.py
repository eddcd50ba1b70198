"""newsgen.headers: the `_headers` file read as Netlify and Cloudflare Pages read it."""

from __future__ import annotations

import pytest

from newsgen import headers

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
