"""YAML front matter of curated articles: safe_load only, every problem names file, line and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newsgen.frontmatter import parse_front_matter
from newsgen.records import FrontMatter


def problems_of(front: str) -> list[str]:
    _, _, _, problems = parse_front_matter("articles/x.md", f"---\n{front}---\nBody.\n")
    return [f"{p} [{p.level}]" for p in problems]


def meta_of(front: str) -> FrontMatter | None:
    meta, _, _, problems = parse_front_matter("articles/x.md", f"---\n{front}---\nBody.\n")
    assert problems == []
    return meta


def test_every_key_is_read() -> None:
    meta = meta_of(
        "title: Un titolo\ndate: 2022-03-29\nslug: un-titolo\nlang: it_IT\ndateline: Roma\n"
        "tags: [politica, europa, politica]\nsummary: Breve.\ndraft: true\n"
        "aliases: /vecchio/url/\nsource: seeds/a.txt\n"
    )
    assert meta == FrontMatter(
        title="Un titolo",
        date=dt.date(2022, 3, 29),
        slug="un-titolo",
        lang="it-it",
        dateline="Roma",
        tags=("politica", "europa"),
        summary="Breve.",
        draft=True,
        aliases=("/vecchio/url/",),
        source="seeds/a.txt",
    )


def test_iso_datetime_with_offset() -> None:
    meta = meta_of("date: 2022-03-29T08:30:00+02:00\n")
    assert meta is not None
    assert meta.date == dt.datetime(2022, 3, 29, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_quoted_date_is_read_too() -> None:
    meta = meta_of("date: '2022-03-29'\n")
    assert meta is not None and meta.date == dt.date(2022, 3, 29)


def test_body_and_its_first_line() -> None:
    meta, body, line, _ = parse_front_matter("a.md", "---\ntitle: T\n---\nFirst.\n")
    assert (meta, body, line) == (FrontMatter(title="T"), "First.\n", 4)


def test_no_front_matter_is_all_body() -> None:
    assert parse_front_matter("a.md", "Just text.\n") == (FrontMatter(), "Just text.\n", 1, [])


def test_empty_front_matter() -> None:
    assert meta_of("") == FrontMatter()


def test_bad_yaml_names_the_line() -> None:
    assert problems_of("title: A\ntags: [a, b\n") == [
        "articles/x.md:3: front matter is not valid YAML (expected ',' or ']', but got "
        "'<stream end>'); fix it; skipped [error]"
    ]


def test_tab_indentation_is_bad_yaml() -> None:
    assert problems_of("title: A\n\tdate: x\n") == [
        "articles/x.md:3: front matter is not valid YAML (found character '\\t' that cannot "
        "start any token); fix it; skipped [error]"
    ]


def test_front_matter_not_closed() -> None:
    _, _, _, problems = parse_front_matter("articles/x.md", "---\ntitle: A\nBody.\n")
    assert [str(p) for p in problems] == [
        "articles/x.md:1: front matter is not closed; add a line '---' after the last key; skipped"
    ]


def test_front_matter_must_be_a_mapping() -> None:
    assert problems_of("- a\n- b\n") == [
        "articles/x.md:2: front matter must be 'key: value' lines; skipped [error]"
    ]


@pytest.mark.parametrize(
    ("front", "message"),
    [
        (
            "title: A\nslug: !!python/object/apply:os.system ['touch {marker}']\n",
            "articles/x.md:3: 'slug': the tag !!python/object/apply:os.system is not allowed "
            "(plain YAML values only); skipped [error]",
        ),
        (
            "tags:\n  - a\n  - !!python/object/new:os.system ['touch {marker}']\n",
            "articles/x.md:4: 'tags': the tag !!python/object/new:os.system is not allowed "
            "(plain YAML values only); skipped [error]",
        ),
        (
            "title: !!python/name:os.system\n",
            "articles/x.md:2: 'title': the tag !!python/name:os.system is not allowed "
            "(plain YAML values only); skipped [error]",
        ),
    ],
)
def test_python_tags_are_never_executed(front: str, message: str, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    assert problems_of(front.format(marker=marker)) == [message.format(marker=marker)]
    assert not marker.exists()


def test_impossible_date_names_line_and_key() -> None:
    assert problems_of("title: A\ndate: 2022-02-30\n") == [
        "articles/x.md:3: 'date': impossible value '2022-02-30' (day is out of range for month); "
        "skipped [error]"
    ]


@pytest.mark.parametrize(
    ("front", "message"),
    [
        (
            "date: '2022-02-30'\n",
            "articles/x.md:2: 'date': expected a date such as 2022-03-29 or "
            "2022-03-29T08:30:00+02:00, got '2022-02-30'; skipped [error]",
        ),
        (
            "date: 29 marzo 2022\n",
            "articles/x.md:2: 'date': expected a date such as 2022-03-29 or "
            "2022-03-29T08:30:00+02:00, got '29 marzo 2022'; skipped [error]",
        ),
        (
            "draft: yes please\n",
            "articles/x.md:2: 'draft': expected true or false, got 'yes please'; skipped [error]",
        ),
        (
            "tags: 3\n",
            "articles/x.md:2: 'tags': expected a list of text such as [politics, europe], got 3; "
            "skipped [error]",
        ),
        (
            "tags: [a, {b: c}]\n",
            "articles/x.md:2: 'tags': expected a list of text such as [politics, europe], "
            "got ['a', {'b': 'c'}]; skipped [error]",
        ),
        ("slug: [a]\n", "articles/x.md:2: 'slug': expected text, got ['a']; skipped [error]"),
        ("title: true\n", "articles/x.md:2: 'title': expected text, got True; skipped [error]"),
        (
            "title: '  '\n",
            "articles/x.md:2: 'title': expected non-empty text, got '  '; skipped [error]",
        ),
        (
            "lang: italiano!\n",
            "articles/x.md:2: 'lang': expected a language code such as 'it' or 'en', "
            "got 'italiano!'; skipped [error]",
        ),
    ],
)
def test_wrong_types_name_line_and_key(front: str, message: str) -> None:
    assert problems_of(front) == [message]


def test_every_bad_value_is_reported_at_once() -> None:
    assert problems_of("title: A\ndraft: maybe\ntags: 3\n") == [
        "articles/x.md:3: 'draft': expected true or false, got 'maybe'; skipped [error]",
        "articles/x.md:4: 'tags': expected a list of text such as [politics, europe], got 3; "
        "skipped [error]",
    ]


def test_unknown_keys_warn_and_suggest_the_nearest_one() -> None:
    meta, _, _, problems = parse_front_matter(
        "articles/x.md", "---\ntitle: A\ntagz: [a]\ncolour: red\n---\nBody.\n"
    )
    assert meta == FrontMatter(title="A")
    assert [f"{p} [{p.level}]" for p in problems] == [
        "articles/x.md:3: 'tagz' is not a front matter key; did you mean 'tags'? [warning]",
        "articles/x.md:4: 'colour' is not a front matter key; valid keys: title, date, slug, "
        "lang, dateline, tags, summary, draft, aliases, source, id, image, image_caption, "
        "image_credit [warning]",
    ]


def test_a_long_bad_value_is_shortened() -> None:
    assert problems_of(f"draft: {'x' * 100}\n") == [
        f"articles/x.md:2: 'draft': expected true or false, got '{'x' * 56}...; skipped [error]"
    ]


HALF_PAIR = "holds half of a UTF-16 surrogate pair, not a character; write the character itself"


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ('title: "\\uD800"\n', f"articles/x.md:2: 'title': '\\ud800' {HALF_PAIR}; skipped [error]"),
        (
            'summary: "Un \\U0000DFFF testo"\n',
            f"articles/x.md:2: 'summary': 'Un \\udfff testo' {HALF_PAIR}; skipped [error]",
        ),
        (
            'tags: [a, "b\\uDC00"]\n',
            f"articles/x.md:2: 'tags': ['a', 'b\\udc00'] {HALF_PAIR}; skipped [error]",
        ),
        ('date: "\\uD800"\n', f"articles/x.md:2: 'date': '\\ud800' {HALF_PAIR}; skipped [error]"),
        ('id: "\\uD800"\n', f"articles/x.md:2: 'id': '\\ud800' {HALF_PAIR}; skipped [error]"),
    ],
)
def test_half_of_a_surrogate_pair_is_an_error_naming_line_and_key(front: str, message: str) -> None:
    assert problems_of(front) == [message]


@pytest.mark.parametrize(
    ("front", "message"),
    [
        (
            '"\\uD800": x\n',
            "articles/x.md:2: '\\ud800' is not a front matter key; valid keys: title, date, slug, "
            "lang, dateline, tags, summary, draft, aliases, source, id, image, image_caption, "
            "image_credit [warning]",
        ),
        (
            '"\\e[2Jx": x\n',
            "articles/x.md:2: '\\x1b[2Jx' is not a front matter key; valid keys: title, date, "
            "slug, lang, dateline, tags, summary, draft, aliases, source, id, image, "
            "image_caption, image_credit [warning]",
        ),
        (
            '"\\uD800": !!python/name:os.system\n',
            "articles/x.md:2: '\\ud800': the tag !!python/name:os.system is not allowed "
            "(plain YAML values only); skipped [error]",
        ),
    ],
)
def test_keys_that_cannot_be_printed_are_shown_as_escapes(front: str, message: str) -> None:
    problems = problems_of(front)
    assert problems == [message]
    problems[0].encode("ascii")


def test_a_repeated_key_is_a_warning_naming_both_lines_and_the_last_wins() -> None:
    meta, _, _, problems = parse_front_matter(
        "articles/x.md", "---\ntitle: First\ntags: [a]\ntitle: Second\n---\nBody.\n"
    )
    assert meta == FrontMatter(title="Second", tags=("a",))
    assert [f"{p} [{p.level}]" for p in problems] == [
        "articles/x.md:4: 'title' is given again (first on line 2); this one is used; "
        "delete the other [warning]"
    ]


def test_a_key_that_a_merge_brings_in_may_be_overridden() -> None:
    meta, _, _, problems = parse_front_matter(
        "articles/x.md", "---\n<<: {title: Merged, draft: true}\ntitle: Own\n---\nBody.\n"
    )
    assert (problems, meta) == ([], FrontMatter(title="Own", draft=True))


def test_an_offset_past_a_day_is_shown_as_written() -> None:
    assert problems_of("date: 2022-03-29T08:30:00+25:00\n") == [
        "articles/x.md:2: 'date': impossible value '2022-03-29T08:30:00+25:00' (the offset "
        "from UTC, +25:00, is not between -23:59 and +23:59); skipped [error]"
    ]


def test_a_date_in_the_wrong_key_is_shown_as_written() -> None:
    assert problems_of("title: 2022-03-29T08:30:00+02:00\n") == [
        "articles/x.md:2: 'title': expected text, got 2022-03-29T08:30:00+02:00; skipped [error]"
    ]


@pytest.mark.parametrize("given", ["mubarak-2020", "A_1", "x" * 64, "0"])
def test_an_id_is_read(given: str) -> None:
    assert meta_of(f"id: '{given}'\n") == FrontMatter(id=given)


@pytest.mark.parametrize(
    ("front", "shown"),
    [
        ("id: ''\n", "''"),
        ("id: a b\n", "'a b'"),
        ("id: ../x\n", "'../x'"),
        ("id: caffè\n", "'caffè'"),
        (f"id: {'x' * 65}\n", f"'{'x' * 56}..."),
        ("id: 12\n", "12"),
        ("id: [a]\n", "['a']"),
    ],
)
def test_a_bad_id_is_an_error_naming_the_key(front: str, shown: str) -> None:
    assert problems_of(front) == [
        "articles/x.md:2: 'id': expected an id of 1 to 64 letters, digits, '-' or '_', "
        f"got {shown}; skipped [error]"
    ]
