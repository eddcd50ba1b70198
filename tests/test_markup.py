"""Markdown to safe HTML: raw HTML is text, only http, https, mailto and relative links."""

from __future__ import annotations

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from newsgen.markup import (
    _image_block,
    _literal_paragraph,
    _parser,
    figure,
    has_syntax,
    plain_text,
    render_block,
    render_blocks,
    render_body,
    safe_url,
    split_body,
    stored_body,
    strip_controls,
)
from newsgen.records import Image


def test_a_plain_line_is_one_paragraph_escaped() -> None:
    assert render_block("Plain & “quoted” text.") == "<p>Plain &amp; “quoted” text.</p>\n"


def test_raw_html_is_text() -> None:
    assert render_block("<script>alert(1)</script> and <b>bold</b>") == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; and &lt;b&gt;bold&lt;/b&gt;</p>\n"
    )


def test_raw_html_block_is_text() -> None:
    assert render_block('<div onclick="x()">\nhi\n</div>') == (
        "<p>&lt;div onclick=&quot;x()&quot;&gt;\nhi\n&lt;/div&gt;</p>\n"
    )


def test_inline_markdown_renders() -> None:
    assert render_block("Some *emphasis*, **strong** and [a link](https://x.org/a?b=1&c=2).") == (
        "<p>Some <em>emphasis</em>, <strong>strong</strong> and "
        '<a href="https://x.org/a?b=1&amp;c=2">a link</a>.</p>\n'
    )


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,x",
        "VBScript:x",
        "file:///etc/passwd",
        "ftp://x.org/a",
        "tel:123",
    ],
)
def test_unsafe_links_are_not_links(url: str) -> None:
    assert render_block(f"[click]({url})") == f"<p>[click]({url})</p>\n"


@pytest.mark.parametrize(
    "url", ["https://x.org/", "http://x.org/", "mailto:a@b.org", "../x/", "/x/", "x.html", "#top"]
)
def test_safe_links_are_links(url: str) -> None:
    assert render_block(f"[click]({url})") == f'<p><a href="{url}">click</a></p>\n'


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://x", True),
        ("HTTP://x", True),
        ("mailto:a@b", True),
        ("rel/path", True),
        ("javascript:x", False),
        (" javascript:x", False),
        ("java\x00script:x", False),
        ("java\tscript:x", False),
        ("data:image/png;base64,AAA", False),
        ("", False),
        ("https://[broken/a.jpg", False),
        ("http://[::1]/a.jpg", True),
        ("/[a]/b.jpg", True),
        ("ftp://[broken", False),
        ("JaVaScRiPt:x", False),
        ("/%6Aavascript:x", True),
        ("%6Aavascript:x", False),
        ("1javascript:x", True),
    ],
)
def test_safe_url(url: str, safe: bool) -> None:
    assert safe_url(url) is safe


def test_an_image_alone_is_a_figure_with_its_credit_apart_labelled_as_written() -> None:
    assert render_block("![Il vertice [foto: Ansa]](https://x.org/a.jpg)") == (
        '<figure><img src="https://x.org/a.jpg" alt="Il vertice" loading="lazy">'
        '<figcaption>Il vertice <span class="credit">foto: Ansa</span></figcaption></figure>\n'
    )


def test_an_image_with_an_unsafe_url_keeps_only_its_caption() -> None:
    assert render_block("![x [Credit: A]](javascript:alert(1))") == (
        '<figure><figcaption>x <span class="credit">Credit: A</span></figcaption></figure>\n'
    )
    # Nor is an empty address an image (markdown-it would show a broken one).
    assert render_block("![Roma]()") == "<figure><figcaption>Roma</figcaption></figure>\n"


def test_figure_escapes_caption_credit_and_url() -> None:
    image = Image(url='https://x.org/a.jpg?"><b', caption='<b>"c"</b>', credit="A & B")
    assert figure(image) == (
        '<figure><img src="https://x.org/a.jpg?&quot;&gt;&lt;b" alt="&lt;b&gt;&quot;c&quot;'
        '&lt;/b&gt;" loading="lazy"><figcaption>&lt;b&gt;&quot;c&quot;&lt;/b&gt; '
        '<span class="credit">A &amp; B</span></figcaption></figure>\n'
    )


def test_blocks_render_in_order() -> None:
    html = render_blocks(("Uno.", "- a\n- b", "| a |\n| --- |\n| 1 |", "```\nx <y>\n\nz\n```"))
    assert html == (
        "<p>Uno.</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"
        "<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n"
        "</tr>\n</tbody>\n</table>\n"
        "<pre><code>x &lt;y&gt;\n\nz\n</code></pre>\n"
    )


def test_block_quote() -> None:
    assert render_block("> uno\n> due") == "<blockquote>\n<p>uno\ndue</p>\n</blockquote>\n"


def test_plain_text_drops_markdown_syntax() -> None:
    assert plain_text("Il *nuovo* [governo](https://x.org) &amp; <b>x</b> `code`") == (
        "Il nuovo governo & <b>x</b> code"
    )


def test_plain_text_of_plain_words_folds_spaces() -> None:
    assert plain_text("  Uno   due\ttre ") == "Uno due tre"


def test_controls_and_noncharacters_are_stripped_in_every_plane() -> None:
    text = "a\x00b\x1b\x85c\ufdd0d\ufffe\U0001fffee\U0010ffff\t🎉\n東京"
    assert strip_controls(text) == "abcde\t🎉\n東京"
    assert strip_controls("🎉\U0001ffff") == "🎉"


# Pieces that make or almost make links, images, entities and references.
_BRACKETY = st.lists(
    st.one_of(
        st.sampled_from(["[", "]", "(", ")", "!", "&", "& ", "]:", "][", "...", '"', "'", "a"]),
        st.sampled_from(["Roma", " ", "1.", "\xa0", "&amp;", "&#", "&x", "\t", "-", "#", "*"]),
        st.sampled_from(["<", "\\", "\x00", "\r", "\n"]),
    ),
    max_size=12,
).map("".join)


# Pieces that leave a paragraph literal, a few that almost do, and never a blank or "[" at
# either end: most are paragraphs the shortcut takes (one in thirty of _BRACKETY).
_LITERAL_PIECES = st.sampled_from(
    ["[", "]", "(", ")", "!", "& ", "]:", "][", "...", '"', "'", "Roma", " ", "1.", "\xa0", "-"] * 4
    + ["[Roma]", "(Roma)", "](Roma)", "![Roma]", "&amp;", "&#", "[1]: Roma"]  # all but literal
)
_LITERALISH = st.tuples(
    st.sampled_from(["Roma", "a", '"', "1", "(", "!"]),
    st.lists(_LITERAL_PIECES, max_size=12).map("".join),
    st.sampled_from(["Roma", ")", "]", "!", ".", '"']),
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(_LITERALISH)
def test_a_literal_paragraph_renders_as_markdown_it_renders_it(block: str) -> None:
    # Plain words (no syntax at all) have their own shortcut, with html.escape; an image
    # alone on its line is a figure (below), which markdown-it does not make.
    assume(has_syntax(block) and _image_block(block) is None)
    event("the shortcut" if _literal_paragraph(block) else "the parser")
    assert render_block(block) == _parser().render(block)


@settings(max_examples=1000, deadline=None)
@given(_BRACKETY)
def test_any_bracketed_paragraph_renders_as_markdown_it_renders_it(block: str) -> None:
    if has_syntax(block) and _image_block(block) is None:  # see the test above
        event("the shortcut" if _literal_paragraph(block) else "the parser")
        assert render_block(block) == _parser().render(block)


def test_brackets_that_form_no_link_skip_the_parser() -> None:
    assert _literal_paragraph('ha detto [...] che "non è" vero & basta!')
    assert not _literal_paragraph("[1]: https://example.org")
    assert not _literal_paragraph("vedi [qui](https://example.org)")
    assert not _literal_paragraph("A &amp; B")


def test_quotes_nested_past_the_parser_limit_keep_their_text_flattened() -> None:
    html, flattened = render_body(("> " * 300 + "deep *words*", "After."))
    assert html == "<p>deep <em>words</em></p>\n<p>After.</p>\n"
    assert flattened == 1


def test_quotes_nested_up_to_the_parser_limit_keep_their_structure() -> None:
    html, flattened = render_body(("> " * 19 + "deep words",))
    assert html.count("<blockquote>") == 19
    assert "deep words" in html
    assert flattened == 0


def test_every_item_of_a_list_nested_past_the_limit_is_kept() -> None:
    block = "\n".join("  " * depth + f"- item {depth}" for depth in range(40))
    html, flattened = render_body((block,))
    assert html == "".join(f"<p>item {depth}</p>\n" for depth in range(40))
    assert flattened == 1


def test_mixed_deep_nesting_loses_no_line() -> None:
    block = "\n".join("> " * depth + "1. " * depth + f"line {depth}" for depth in range(1, 60))
    html, _ = render_body((block,))
    assert all(f"line {depth}" in html for depth in range(1, 60))


def test_a_stored_body_gives_back_its_html_and_related_images() -> None:
    related = (
        Image(url="https://e.org/a.jpg", caption='Un "titolo"\nsu due righe', credit="foto: X"),
        Image(url="https://e.org/b.jpg", caption="Città <b>", credit=""),
    )
    html = "<p>Primo.</p>\n<p>Secondo\n[]</p>"
    assert split_body(stored_body(html, related)) == (html, related)
    assert split_body(stored_body("", ())) == ("", ())
