"""Properties over arbitrary input (hypothesis): loading and rendering never raise, every page
is well-formed, and no element or attribute appears that neither the theme nor markdown-it's
safe output would write.

Each example goes through the real stages for one article: load → enrich → finalize → plan →
render, for the article page, the front page and the feed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import html

from newsgen import publish, render, theme
from newsgen.check import scan_html
from newsgen.enrich import enrich, finalize
from newsgen.frontmatter import KEYS, parse_front_matter
from newsgen.load import parse_curated, parse_seed
from newsgen.markup import render_blocks
from newsgen.plan import Page, Settings, plan_site
from newsgen.records import Draft, Problem
from tests.conftest import MakeSite, build_site
from tests.safety import html_findings, xml_findings

THEME = theme.THEME / "templates"
# Pieces of Markdown, HTML and URL syntax, so that examples hit the parsers' edges far more
# often than uniform text would.
TOKENS = [
    *"<>[]()!*_`#|-:&;\"'/\\=.~ \n\t\r",
    "javascript:",
    "JaVaScRiPt:",
    "vbscript:",
    "data:text/html,",
    "<script>",
    "</script>",
    "<svg onload=x()>",
    "<iframe src=x>",
    " onerror=",
    "![",
    "](",
    "[Credit: ",
    "&#x09;",
    "&#106;",
    "%6A",
    "```",
    "> ",
    "- ",
    "1. ",
    "| a |",
    "|:-|",
    "Roma – ",
    "29 marzo 2022",
    "\ufeff",
    "\u202e",
    "\x00",
    "\x1b",
    "\ufffe",
    "é",
    "東京",
    "بيروت",
    "🎉",
    "word ",
    "Title\n\n",
]
markdownish = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
texts = st.one_of(st.text(max_size=400), markdownish)
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@cache
def environment() -> object:
    templates = Path("/nonexistent-site-templates")
    site = theme.Site(
        title="Archive",
        base_url="https://example.org/archive/",
        base_path="/archive/",
        language="en",
        build_time=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        assets=tuple(sorted(theme.assets(publish.all_static_files(templates)).urls.items())),
    )
    return render.environment(templates, site)


@cache
def allowed() -> tuple[frozenset[str], frozenset[str]]:
    """(elements, attributes) the theme's templates write, plus those of markdown-it's
    output for every construct our configuration enables."""
    source = "\n".join(p.read_text() for p in THEME.rglob("*.html"))
    source = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "x", source)  # Jinja is not markup
    tags = re.findall(r"<([a-z][a-z0-9]*)([^>]*)>", source)
    elements = {name for name, _ in tags}
    names = re.compile(r"\s([a-z][a-z:-]*)(?==|\s|$)")
    attributes = {a for _, rest in tags for a in names.findall(re.sub(r'"[^"]*"', '""', rest))}
    sink = render_blocks(
        (
            "| a | b |\n|:--|--:|\n| 1 | 2 |",
            "```py\nx\n```",
            '~~s~~ *e* **b** `c` [l](https://x "t") ![i](https://x/i.png "t")',
            "3. a",
            "- x",
            "> q",
            *(f"{'#' * level} h" for level in range(1, 7)),
            "a  \nb",
            "---",
            "![c [Credit: d]](https://x/i.png)",
        )
    )
    for element in html.fragment_fromstring(sink, create_parent="div").iter():
        elements.add(str(element.tag))
        attributes.update(str(a) for a in element.attrib)
    return frozenset(elements), frozenset(attributes)


def pages_for(draft: Draft | None) -> list[tuple[Page, str]]:
    """The article page, the front page and the feed of a one-article site."""
    if draft is None:
        return []
    enriched = enrich(draft, default_lang="en", timezone="UTC")
    articles, _ = finalize([enriched.article])
    chosen = {"article", "index", "feed"}
    pages = [
        p for p in plan_site(articles, Settings()) if p.kind in chosen and "/page/" not in p.url
    ]
    env = environment()
    return [
        (page, render.render_page(env, page, lambda _: enriched.body_html).decode())  # type: ignore[arg-type]
        for page in pages
    ]


def assert_page_is_safe(page: Page, text: str) -> None:
    if page.kind == "feed":
        assert xml_findings(text.encode(), page.url) == []
        return
    assert scan_html(page.url, text).problems == ()
    assert html_findings(text.encode(), page.url) == []
    elements, attributes = allowed()
    root = html.document_fromstring(text)
    found_elements = {str(e.tag) for e in root.iter() if isinstance(e.tag, str)}
    found_attributes = {str(a) for e in root.iter() for a in e.attrib}
    assert found_elements <= elements, found_elements - elements
    assert found_attributes <= attributes, found_attributes - attributes


@SETTINGS
@given(texts)
def test_any_seed_text_loads_and_renders_to_safe_well_formed_pages(text: str) -> None:
    draft, _ = parse_seed("seeds/x.txt", text.encode("utf-8"))
    event("rendered and checked" if draft is not None else "no article in it")
    for page, rendered in pages_for(draft):
        assert_page_is_safe(page, rendered)


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_load_without_raising(data: bytes) -> None:
    draft, problems = parse_seed("seeds/x.txt", data)
    assert draft is not None or problems
    event("rendered and checked" if draft is not None else "no article in it")
    for page, rendered in pages_for(draft):
        assert_page_is_safe(page, rendered)


yaml_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        texts,
        st.dates(),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
offsets = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(-dt.timedelta(hours=9, minutes=30))]
)
# A value of the key's own type (with hostile text in it) nine times in ten, anything YAML
# can hold the tenth: arbitrary values alone made 9 files in 10 an error, which stops
# before rendering, where the safety checks are.
words = st.sampled_from(["Roma", "governo", "council", "été", "東京", "2022", "said", "بيروت"])
some_text = st.tuples(words, texts).map(" ".join)  # never blank, which is an error
RIGHT = {
    "title": some_text,
    "date": st.dates() | st.datetimes(timezones=offsets),
    "slug": some_text,
    "lang": st.sampled_from(["it", "en", "fr", "de", "pt-BR"]),
    "dateline": some_text,
    "tags": st.lists(some_text, max_size=4),
    "summary": some_text,
    "draft": st.just(False),
    "aliases": st.lists(st.from_regex(r"/[a-z0-9-]{1,12}(/[a-z0-9-]{1,12})?/", fullmatch=True)),
    "id": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    "image": st.from_regex(r"https://example\.org/[a-z]{1,8}\.jpg", fullmatch=True),
    "image_caption": some_text,
    "image_credit": some_text,
    "x": yaml_values,
}


def value_for(key: str) -> st.SearchStrategy[object]:
    return st.tuples(st.integers(0, 9), RIGHT[key], yaml_values).map(
        lambda t: t[2] if t[0] == 0 else t[1]
    )


front_matters = st.lists(st.sampled_from(sorted(RIGHT)), max_size=6, unique=True).flatmap(
    lambda keys: st.fixed_dictionaries({key: value_for(key) for key in keys})
)


def test_the_typed_values_cover_every_key_but_source() -> None:
    """`source:` is left out: a curated file naming a seed is only built with that seed."""
    assert set(RIGHT) == {*KEYS, "x"} - {"source"}


@SETTINGS
@given(front_matters, some_text)
def test_any_front_matter_loads_and_renders_to_safe_pages(
    meta: dict[str, object], body: str
) -> None:
    front = yaml.safe_dump(meta, allow_unicode=True)
    data = f"---\n{front}---\n{body}\n".encode()
    draft, problems = parse_curated("articles/x.md", data)
    assert draft is not None or any(p.level == "error" for p in problems)
    event("rendered and checked" if draft is not None else "an error before rendering")
    for page, rendered in pages_for(draft):
        assert_page_is_safe(page, rendered)


@SETTINGS
@given(texts)
def test_any_front_matter_text_never_raises(text: str) -> None:
    parse_curated("articles/x.md", f"---\n{text}\n---\nBody.\n".encode())


# --- text that is not text: every input is records or named problems, never an exception ------

BOUNDED = settings(
    derandomize=True,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Halves of UTF-16 surrogate pairs: YAML's "\\uD800" escapes make them, and no file, id,
# cache key or page can hold one. st.text() alone never gives them.
halves = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])
any_text = st.lists(st.one_of(halves, st.characters(), st.sampled_from(TOKENS)), max_size=30).map(
    "".join
)
# A scalar as YAML writes it: quoted with escapes (JSON's strings are YAML's double-quoted
# ones), single-quoted, or plain, which may be no valid YAML at all.
yaml_scalars = st.one_of(
    any_text.map(json.dumps),
    any_text.filter(lambda t: "\n" not in t and "\r" not in t).map(
        lambda t: "'" + t.replace("'", "''") + "'"
    ),
    st.text(st.characters(exclude_characters="\n\r"), max_size=40),
    st.sampled_from(["2022-03-29T08:30:00+25:00", "2022-02-30", "~", "[a, b]", "{a: b}"]),
)


def assert_printable_and_named(path: str, problems: Sequence[Problem]) -> None:
    for problem in problems:
        assert problem.path == path
        str(problem).encode("utf-8")  # what the command line prints


def assert_text_fields_encode(draft: Draft) -> None:
    """Every text a draft holds can be written: ids, hashes, cache keys, slugs, pages."""
    meta = draft.meta
    texts = [draft.id, draft.title, draft.dateline, draft.date_text, *draft.blocks]
    texts += [meta.title, meta.slug, meta.lang, meta.dateline, meta.summary, meta.source, meta.id]
    texts += [*meta.tags, *meta.aliases]
    for text in texts:
        if text is not None:
            text.encode("utf-8")


@BOUNDED
@given(st.binary(max_size=600))
def test_any_bytes_are_a_seed_or_named_problems(data: bytes) -> None:
    draft, problems = parse_seed("seeds/x.txt", data)
    assert draft is not None or any(p.level == "error" for p in problems)
    assert_printable_and_named("seeds/x.txt", problems)
    if draft is not None:
        assert_text_fields_encode(draft)
        enrich(draft, default_lang="en", timezone="UTC").body_html.encode("utf-8")


@BOUNDED
@given(st.binary(max_size=600))
def test_any_bytes_are_a_curated_article_or_named_problems(data: bytes) -> None:
    draft, problems = parse_curated("articles/x.md", b"---\n" + data)
    assert draft is not None or any(p.level == "error" for p in problems)
    assert_printable_and_named("articles/x.md", problems)
    if draft is not None:
        assert_text_fields_encode(draft)


@BOUNDED
@given(st.lists(st.tuples(st.sampled_from([*KEYS, "x"]) | any_text, yaml_scalars), max_size=4))
def test_any_yaml_scalars_are_front_matter_or_named_problems(
    pairs: list[tuple[str, str]],
) -> None:
    front = "".join(f"{json.dumps(key)}: {value}\n" for key, value in pairs)
    text = f"---\n{front}---\nBody text.\n"
    meta, _, _, problems = parse_front_matter("articles/x.md", text)
    assert meta is not None or any(p.level == "error" for p in problems)
    assert_printable_and_named("articles/x.md", problems)
    # As a file: its text never holds half of a pair (decode replaces them), and control
    # characters are dropped before the YAML parser sees them.
    data = text.encode("utf-8", "replace")
    draft, problems = parse_curated("articles/x.md", data)
    assert draft is not None or any(p.level == "error" for p in problems)
    assert_printable_and_named("articles/x.md", problems)
    if draft is not None:
        assert_text_fields_encode(draft)
        for _, rendered in pages_for(draft):
            rendered.encode("utf-8")


def test_half_a_surrogate_pair_in_front_matter_is_an_error_and_the_rest_is_built(
    make_site: MakeSite,
) -> None:
    """It once crashed the build with UnicodeEncodeError, naming no file."""
    site = make_site(
        {
            "articles/bad.md": '---\ntitle: "\\uD800"\n---\nBody text.\n',
            "articles/good.md": "---\ntitle: Good\n---\nBody text.\n",
            "seeds/seed.txt": "Seed title\n\nRoma – A seed beside it.\n",
        }
    )
    _, result = build_site(site)
    assert [(str(p), p.level) for p in result.problems] == [
        (
            "articles/bad.md:2: 'title': '\\ud800' holds half of a UTF-16 surrogate pair, not "
            "a character; write the character itself; skipped",
            "error",
        )
    ]
    assert sorted(p.name for p in (site / "build" / "articles").iterdir()) == [
        "good",
        "seed-title",
    ]


def test_the_allowed_sets_are_the_theme_and_markdown() -> None:
    elements, attributes = allowed()
    assert {"article", "figure", "table", "pre", "s", "img", "a"} <= elements
    assert not {"script", "iframe", "svg", "style", "object"} & (elements - {"script"})
    assert {"href", "src", "alt", "class", "style", "start", "title"} <= attributes
    assert not any(a.startswith("on") for a in attributes)
