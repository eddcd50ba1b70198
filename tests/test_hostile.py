"""Hostile input: broken, mis-encoded, duplicated and malicious files, built as one site.

tests/data/hostile holds one tiny file per case, named for it; the fixture adds what cannot
live in the repository (a 5 MB article, a 3,000-word line, a symlink out of the site). The site
is built once, through the command line as a user runs it, and every case asserts its exact
message and its page, while the good articles prove that nothing else was lost.
"""

from __future__ import annotations

import codecs
import os
import random
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree, html
from playwright.sync_api import Dialog, Page

from newsgen import collect, parallel
from newsgen.cache import Cache
from newsgen.collect import Unreadable, read_source
from newsgen.config import load_config
from newsgen.records import Problem
from tests.conftest import MakeSite, build_site
from tests.safety import (
    THEME_FILES,
    dangerous_url,
    fragment_findings,
    html_findings,
    site_findings,
)
from tests.site_pages import serve

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
BIG_LAST_LINE = "The five megabyte article ends with this exact sentence."


@dataclass(frozen=True)
class Built:
    root: Path
    site: Path
    output: Path
    marker: Path
    code: int
    stderr: str

    def page(self, slug: str) -> html.HtmlElement:
        return html.parse(str(self.output / "articles" / slug / "index.html")).getroot()


def copy_hostile_site(root: Path) -> tuple[Path, Path]:
    """The hostile site in `root/site`, with the generated files; returns (site, marker)."""
    site = root / "site"
    shutil.copytree(HOSTILE, site, symlinks=True)
    marker = root / "pwned"
    for yaml_file in site.glob("articles/yaml_python_*.md"):
        yaml_file.write_text(yaml_file.read_text().replace("MARKER", str(marker)))
    (site / "seeds" / "five_megabytes.txt").write_text(five_megabytes(), encoding="utf-8")
    (site / "seeds" / "long_line_3000_words.txt").write_text(
        " ".join(["parola"] * 3000) + "\n", encoding="utf-8"
    )
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret\n\nA file outside the site must not be read.\n")
    (site / "seeds" / "symlink_outside_site.txt").symlink_to(outside / "secret.txt")
    add_odd_files(site)
    return site, marker


# What the fixture adds beside the repository's files (see `add_odd_files`).
ODD_FILES = {
    "seeds/named_pipe.txt",
    "seeds/a_socket.txt",
    "seeds/dangling_symlink.txt",
    "seeds/symlink_loop.txt",
    "articles/a_folder.md",
    "seeds/over_max_file_mb.txt",
    "seeds/utf16_le_bom.txt",
    "seeds/utf16_be_bom.txt",
    "seeds/name_not_utf8_\udcff.txt",
}
UTF16_TEXT = "UTF-16 {order} title\r\n\r\nRoma – Written by a Windows tool as “Unicode” text.\r\n"


def add_odd_files(site: Path) -> None:
    """Files that are not plain text files: a read of the pipe or the socket would wait for
    ever; the sparse file is 11 MB long but takes no disk."""
    seeds = site / "seeds"
    os.mkfifo(seeds / "named_pipe.txt")
    with socket.socket(socket.AF_UNIX) as bound:
        bound.bind(str(seeds / "a_socket.txt"))
    (seeds / "dangling_symlink.txt").symlink_to("nothing_here.txt")
    (seeds / "symlink_loop.txt").symlink_to("symlink_loop.txt")
    (site / "articles" / "a_folder.md").mkdir()
    with (seeds / "over_max_file_mb.txt").open("wb") as big:
        big.truncate(11 * 1024 * 1024)
    for order, bom, codec in (
        ("LE", codecs.BOM_UTF16_LE, "utf-16-le"),
        ("BE", codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        text = UTF16_TEXT.format(order=order)
        (seeds / f"utf16_{order.lower()}_bom.txt").write_bytes(bom + text.encode(codec))
    (seeds / os.fsdecode(b"name_not_utf8_\xff.txt")).write_text("Not UTF-8\n\nIts name.\n")


def five_megabytes() -> str:
    words = ["alpha", "beta", "gamma", "delta", "notizie", "report", "today", "Roma"]
    rng = random.Random(5)
    lines = ["A five megabyte article", ""]
    size = 0
    while size < 5_000_000:
        line = " ".join(rng.choice(words) for _ in range(90)) + "."
        lines.append(line)
        size += len(line) + 1
    lines.append(BIG_LAST_LINE)
    return "\n".join(lines) + "\n"


def run_newsgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsgen", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": "random"},
        timeout=600,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("hostile")
    site, marker = copy_hostile_site(root)
    done = run_newsgen("build", "--site", str(site), "--verbose")
    return Built(
        root=root,
        site=site,
        output=site / "build",
        marker=marker,
        code=done.returncode,
        stderr=done.stderr,
    )


# Every problem the build reports, exactly; files not listed here must report nothing.
VALID = "a date such as 2022-03-29 or 2022-03-29T08:30:00+02:00"
KEYS = (
    "valid keys: title, date, slug, lang, dateline, tags, summary, draft, aliases, source, id, "
    "image, image_caption, image_credit"
)
LINK_FIX = "point the link at a file, or delete it"
NOT_REGULAR = "skipped; only regular files are read"
HALF_PAIR = "holds half of a UTF-16 surrogate pair, not a character; write the character itself"
NOT_PLAIN = "is not allowed (plain YAML values only); skipped"
SLUG_FIX = "use lower-case letters, digits and dashes"
MESSAGES: dict[str, list[str]] = {
    "seeds/empty.txt": ["seeds/empty.txt:1: file is empty; skipped"],
    "seeds/whitespace_only.txt": ["seeds/whitespace_only.txt:1: file is empty; skipped"],
    "seeds/binary_nul_bytes.txt": [
        "seeds/binary_nul_bytes.txt:1: file is not text (NUL bytes); skipped"
    ],
    "seeds/latin1_encoded.txt": [
        "seeds/latin1_encoded.txt:1: not UTF-8; read as cp1252; "
        "re-save the file as UTF-8 to be sure of the text"
    ],
    "seeds/cp1252_curly_quotes.txt": [
        "seeds/cp1252_curly_quotes.txt:1: not UTF-8; read as cp1252; "
        "re-save the file as UTF-8 to be sure of the text"
    ],
    "seeds/only_images.txt": [
        "seeds/only_images.txt:1: file holds only images, no article text; skipped"
    ],
    "seeds/punctuation_title.txt": [
        "seeds/punctuation_title.txt:1: the title gives no usable URL; published as "
        "/articles/14c726426a90462f/; set 'slug:' in front matter to choose one"
    ],
    "seeds/emoji_only_title.txt": [
        "seeds/emoji_only_title.txt:1: the title gives no usable URL; published as "
        "/articles/b0a7821eea001c78/; set 'slug:' in front matter to choose one"
    ],
    "seeds/same_title_second.txt": [
        "seeds/same_title_second.txt:1: URL /articles/same-title-twice/ is already used by "
        "seeds/same_title_first.txt; published as /articles/same-title-twice-2/; "
        "set 'slug:' in front matter to choose"
    ],
    "seeds/identical_text_b.txt": [
        "seeds/identical_text_b.txt:1: same text as seeds/identical_text_a.txt; skipped; "
        "delete one of the two files"
    ],
    "seeds/symlink_outside_site.txt": [
        "seeds/symlink_outside_site.txt: is a link to a file outside the site; skipped; "
        "copy the file in instead"
    ],
    "seeds/named_pipe.txt": [
        f"seeds/named_pipe.txt: not a regular file (a named pipe); {NOT_REGULAR}"
    ],
    "seeds/a_socket.txt": [f"seeds/a_socket.txt: not a regular file (a socket); {NOT_REGULAR}"],
    "articles/a_folder.md": [f"articles/a_folder.md: not a regular file (a folder); {NOT_REGULAR}"],
    "seeds/dangling_symlink.txt": [
        f"seeds/dangling_symlink.txt: symlink to nothing; skipped; {LINK_FIX}"
    ],
    "seeds/symlink_loop.txt": [f"seeds/symlink_loop.txt: symlink loop; skipped; {LINK_FIX}"],
    "seeds/over_max_file_mb.txt": [
        "seeds/over_max_file_mb.txt: 11 MB, over max_file_mb (10); skipped; split the file, "
        "or raise max_file_mb in newsgen.yaml"
    ],
    "seeds/name_not_utf8_\\xff.txt": [
        "seeds/name_not_utf8_\\xff.txt: file name is not UTF-8; skipped; rename the file"
    ],
    "articles/surrogate_in_title.md": [
        f"articles/surrogate_in_title.md:2: 'title': '\\ud800' {HALF_PAIR}; skipped"
    ],
    "articles/repeated_key.md": [
        "articles/repeated_key.md:4: 'title' is given again (first on line 2); this one is used; "
        "delete the other"
    ],
    "articles/impossible_offset.md": [
        "articles/impossible_offset.md:3: 'date': impossible value '2022-03-29T08:30:00+25:00' "
        "(the offset from UTC, +25:00, is not between -23:59 and +23:59); skipped"
    ],
    "articles/shared_id_second.md": [
        "articles/shared_id_second.md:1: 'id: shared-id' is already the id of "
        "articles/shared_id_first.md; skipped; choose another id"
    ],
    "articles/yaml_python_object_apply.md": [
        "articles/yaml_python_object_apply.md:2: 'title': the tag "
        f"!!python/object/apply:os.system {NOT_PLAIN}"
    ],
    "articles/yaml_python_object_new.md": [
        "articles/yaml_python_object_new.md:3: 'summary': the tag "
        f"!!python/object/new:subprocess.Popen {NOT_PLAIN}"
    ],
    "articles/yaml_python_name.md": [
        f"articles/yaml_python_name.md:2: 'title': the tag !!python/name:os.system {NOT_PLAIN}"
    ],
    "articles/yaml_unterminated_front_matter.md": [
        "articles/yaml_unterminated_front_matter.md:1: front matter is not closed; "
        "add a line '---' after the last key; skipped"
    ],
    "articles/yaml_unterminated_quote.md": [
        "articles/yaml_unterminated_quote.md:2: front matter is not valid YAML "
        "(found unexpected end of stream); fix it; skipped"
    ],
    "articles/yaml_alias_bomb.md": [
        *(
            f"articles/yaml_alias_bomb.md:{n}: '{key}' is not a front matter key; "
            + ("did you mean 'id'?" if key == "d" else KEYS)
            for n, key in enumerate("abcdefgh", start=2)
        ),
        "articles/yaml_alias_bomb.md:10: 'title': expected text, got "
        "[[[[...], [...], [...], [...], ...], [[...], [...], [...]...; skipped",
    ],
    "articles/wrong_types.md": [
        "articles/wrong_types.md:2: 'title': expected text, got [1, 2]; skipped",
        "articles/wrong_types.md:3: 'tags': expected a list of text such as "
        "[politics, europe], got 5; skipped",
        "articles/wrong_types.md:4: 'draft': expected true or false, got 'yes'; skipped",
        f"articles/wrong_types.md:5: 'date': expected {VALID}, got True; skipped",
    ],
    "articles/impossible_date.md": [
        "articles/impossible_date.md:3: 'date': impossible value '2022-02-30' "
        "(day is out of range for month); skipped"
    ],
    "articles/impossible_date_quoted.md": [
        f"articles/impossible_date_quoted.md:3: 'date': expected {VALID}, got '2022-13-01'; skipped"
    ],
    "articles/front_matter_markup_everywhere.md": [
        "articles/front_matter_markup_everywhere.md:1: 'slug: <script>alert('slug')</script>' "
        f"is not a plain URL name; published as /articles/script-alert-slug-script/; {SLUG_FIX}"
    ],
    "articles/front_matter_javascript_urls.md": [
        "articles/front_matter_javascript_urls.md:1: 'slug: javascript:alert(7)' is not a plain "
        f"URL name; published as /articles/javascript-alert-7/; {SLUG_FIX}"
    ],
    **{
        f"articles/slug_{name}.md": [
            f"articles/slug_{name}.md:1: 'slug: {given}' is not a plain URL name; "
            f"published as /articles/{slug}/; {SLUG_FIX}"
        ]
        for name, given, slug in [
            ("parent_dirs", "../../x", "x"),
            ("absolute", "/etc/passwd", "etc-passwd"),
            ("dot_dot", "..", "7c7d394d6737a74c"),
            ("percent_encoded", "%2e%2e%2f%2e%2e%2fescaped", "2e-2e-2f-2e-2e-2fescaped"),
            ("backslashes", "..\\..\\windows", "windows"),
            ("dots_inside", "a/../../b", "a-b"),
        ]
    },
}

# Every article that must be built: slug -> headline as the page shows it.
PAGES = {
    "good-control-article": "Good control article",
    "good-curated-article": "Good curated article",
    "cafe-creme-a-paris": "Café crème à Paris",
    "curly-quotes-in-cp1252": "“Curly” quotes in cp1252",
    "bom-and-crlf-title": "BOM and CRLF title",
    "a-five-megabyte-article": "A five megabyte article",
    "parola-parola-parola-parola-parola-parola-parola-parola-parola-parola-parola": (
        "parola " * 21
    ).strip()
    + "…",
    "nested-brackets": "Nested brackets",
    "markup-in-the-body": "Markup in the body",
    "dangerous-urls": "Dangerous URLs",
    "malformed-image-hosts": "Malformed image hosts",
    "script-alert-title-script-svg-onload-alert-1-t-javascript-alert-2": (
        "<script>alert('title')</script><svg onload=alert(1)> [t](javascript:alert(2))"
    ),
    "captions-with-markup": "Captions with markup",
    "14c726426a90462f": "!!! ??? ...!",
    "b0a7821eea001c78": "🎉🎉🔥",
    "dong-jing-teda-kinadi-zhen": "東京で大きな地震",
    "nfjr-kbyr-fy-mrf-byrwt": "انفجار كبير في مرفأ بيروت",
    "nwn-rby-llmql": "عنوان عربي للمقال",
    "emoji-in-the-news": "Emoji 🎉 in the news 🚀",
    "same-title-twice": "Same title twice",
    "same-title-twice-2": "Same title twice",
    "identical-texts": "Identical texts",
    "file-name-with-spaces": "File name with spaces",
    "file-name-with-accents": "File name with accents",
    "file-name-with-a-leading-dash": "File name with a leading dash",
    "control-31mcharacters-here": "Control [31mcharacters here",
    "script-alert-slug-script": (
        "<script>alert('title')</script><svg onload=alert(1)><iframe src=javascript:alert(2)>"
    ),
    "javascript-alert-7": "javascript:alert(1)",
    "x": "Slug case parent_dirs",
    "etc-passwd": "Slug case absolute",
    "7c7d394d6737a74c": "Slug case dot_dot",
    "2e-2e-2f-2e-2e-2fescaped": "Slug case percent_encoded",
    "windows": "Slug case backslashes",
    "a-b": "Slug case dots_inside",
    "utf-16-le-title": "UTF-16 LE title",
    "utf-16-be-title": "UTF-16 BE title",
    "repeated-key-wins": "Repeated key wins",
    "curated-twin-one": "Curated twin one",
    "curated-twin-two": "Curated twin two",
    "shared-id-first": "Shared id first",
}


def reported(built: Built) -> list[str]:
    return problem_lines(built.stderr)


def problem_lines(stderr: str) -> list[str]:
    """The `file:line: problem` lines (not the summary or timing lines)."""
    return [line for line in stderr.splitlines() if line.startswith(("seeds/", "articles/"))]


def test_the_build_succeeds_without_a_traceback(built: Built) -> None:
    assert built.code == 0, built.stderr
    assert "Traceback" not in built.stderr
    assert built.stderr.splitlines()[-1].startswith("Built 40 articles, ")
    assert (
        "; 23 warnings, 27 errors; 65 input files: 40 built, 1 skipped (1 with the same text as "
        "another file), 24 failed."
    ) in built.stderr


def test_every_problem_is_reported_exactly_once_and_nothing_else(built: Built) -> None:
    expected = sorted(line for lines in MESSAGES.values() for line in lines)
    assert sorted(reported(built)) == expected


@pytest.mark.parametrize("path", sorted(MESSAGES))
def test_each_bad_file_is_named_with_what_to_do(built: Built, path: str) -> None:
    mine = [line for line in reported(built) if line.startswith(f"{path}:")]
    assert sorted(mine) == sorted(MESSAGES[path])


@pytest.mark.parametrize("slug", sorted(PAGES))
def test_every_good_article_is_built_with_its_headline(built: Built, slug: str) -> None:
    page = built.page(slug)
    assert page.findtext(".//h1") == PAGES[slug]


def test_no_other_article_pages_exist(built: Built) -> None:
    found = sorted(p.name for p in (built.output / "articles").iterdir())
    assert found == sorted(PAGES)


def test_no_script_handler_frame_svg_or_script_url_reaches_any_output_file(built: Built) -> None:
    assert site_findings(built.output) == []


def test_the_checks_find_what_they_look_for() -> None:
    """The scanner itself, so that an empty list above means something."""
    page = (
        b"<!DOCTYPE html><html><head><script>x()</script></head><body>"
        b'<a href=" JaVa&#x09;Script:x()">a</a><img src="data:image/svg+xml,x" onerror="x()">'
        b'<iframe src="https://e/"></iframe><svg onload="x()"></svg><p style="x">t</p>'
        b'<a href="%6Aavascript:x()">b</a></body></html>'
    )
    assert html_findings(page, "p") == [
        "p: <script> element",
        "p: <a href=' JaVa\\tScript:x()'> script URL",
        "p: <img src='data:image/svg+xml,x'> script URL",
        "p: <img onerror=…> event handler",
        "p: <iframe> element",
        "p: <svg> element",
        "p: <svg onload=…> event handler",
        "p: <p style=…> attribute",
        "p: <a href='%6Aavascript:x()'> script URL",
    ]
    assert fragment_findings("<p>ok <b>bold</b></p>", "f") == []
    assert not dangerous_url("https://example.org/javascript:x")


def test_yaml_python_tags_never_run(built: Built) -> None:
    assert not built.marker.exists()


def test_nothing_is_written_outside_the_output_folder(built: Built) -> None:
    inputs = {p.relative_to(HOSTILE).as_posix() for p in HOSTILE.rglob("*")}
    generated = {"seeds/five_megabytes.txt", "seeds/long_line_3000_words.txt"}
    generated.add("seeds/symlink_outside_site.txt")
    generated |= ODD_FILES
    site = {
        p.relative_to(built.site).as_posix()
        for p in built.site.rglob("*")
        if p.relative_to(built.site).parts[0] not in ("build", ".newsgen")
    }
    recorded = {"urls.yaml"}  # the published-URL registry, kept with the site by design
    assert site == inputs | generated | recorded
    assert sorted(p.name for p in built.root.iterdir()) == ["outside", "site"]
    assert sorted(p.name for p in (built.root / "outside").iterdir()) == ["secret.txt"]


def test_the_symlinked_file_outside_the_site_is_never_read(built: Built) -> None:
    assert "outside the site must not be read" not in (built.output / "feed.xml").read_text()
    assert not (built.output / "articles" / "secret").exists()


def test_arabic_articles_are_right_to_left_in_an_english_site(built: Built) -> None:
    """The interface speaks the site's language (English, left to right); an Arabic article's
    own text, its teasers and its title beside a link run right to left."""
    for slug in ("nfjr-kbyr-fy-mrf-byrwt", "nwn-rby-llmql"):
        root = built.page(slug)
        assert (root.get("lang"), root.get("dir")) == ("en", "ltr")
        [story] = root.findall(".//article")
        assert (story.get("lang"), story.get("dir")) == ("ar", "rtl")
        titles = root.findall(".//nav[@class='prevnext']/a/span[@lang='ar']")
        assert [t.get("dir") for t in titles] == ["rtl"]
    [control] = built.page("good-control-article").findall(".//article")
    assert (control.get("lang"), control.get("dir")) == ("en", "ltr")
    listing = html.parse(str(built.output / "languages" / "ar" / "index.html")).getroot()
    teasers = listing.findall(".//article[@class='teaser']")
    assert [(t.get("lang"), t.get("dir")) for t in teasers] == [("ar", "rtl"), ("ar", "rtl")]


def test_legacy_encodings_are_read_as_written(built: Built) -> None:
    body = built.page("cafe-creme-a-paris").findtext(".//div[@class='body']/p")
    assert body == "Paris - Le café est très bon et la crème brûlée aussi, dit le gérant."
    quotes = built.page("curly-quotes-in-cp1252").findtext(".//div[@class='body']/p")
    assert quotes == "The “quick” brown fox – said the report … jumps over the lazy dog."


def test_bom_and_crlf_leave_no_trace(built: Built) -> None:
    paragraphs = built.page("bom-and-crlf-title").findall(".//div[@class='body']/p")
    assert [p.text for p in paragraphs] == [
        "First paragraph written on Windows.",
        "Second paragraph, still on Windows.",
    ]
    raw = (built.output / "articles" / "bom-and-crlf-title" / "index.html").read_bytes()
    assert b"\r" not in raw and b"\xef\xbb\xbf" not in raw


def test_the_five_megabyte_article_is_whole(built: Built) -> None:
    paragraphs = built.page("a-five-megabyte-article").findall(".//div[@class='body']/p")
    assert len(paragraphs) > 9000
    assert paragraphs[-1].text == BIG_LAST_LINE


def test_a_line_of_3000_words_is_one_paragraph_with_a_cut_headline(built: Built) -> None:
    page = built.page(
        "parola-parola-parola-parola-parola-parola-parola-parola-parola-parola-parola"
    )
    assert page.findtext(".//h1") == " ".join(["parola"] * 21) + "…"  # within 150 characters
    assert page.find(".//article").get("class") == "story lead-titled"
    (paragraph,) = page.findall(".//div[@class='body']/p")
    assert paragraph.text_content() == " ".join(["parola"] * 3000)


def test_nested_brackets_keep_captions_credits_and_links(built: Built) -> None:
    page = built.page("nested-brackets")
    link = page.find(".//div[@class='body']//a")
    assert (link.get("href"), link.text_content()) == (
        "https://example.org/nested",
        "nested [brackets [deep]] text",
    )
    figure = page.find(".//div[@class='body']/figure")
    assert figure.find("img").get("src") == "https://example.org/fig.jpg"
    assert figure.findtext("figcaption") == "Inline figure [with [nested]] brackets "
    assert figure.findtext("figcaption/span[@class='credit']") == "Credit: Council of the EU"
    gallery = page.findall(".//section[@class='source-images']//figure")
    # The credit's label as the seed writes it.
    assert [f.find("figcaption").text_content() for f in gallery] == [
        "Valdis Dombrovskis e Stephanie Lose, 12/12/25 Credit: Council of the EU"
    ]


def test_markup_in_the_body_is_shown_as_text(built: Built) -> None:
    body = built.page("markup-in-the-body").find(".//div[@class='body']")
    text = body.text_content()
    assert "<script>alert('body')</script>" in text
    assert "<svg onload=alert('svg')>" in text
    assert "<iframe srcdoc=" in text


def test_script_urls_are_never_links_or_images(built: Built) -> None:
    body = built.page("dangerous-urls").find(".//div[@class='body']")
    assert body.findall(".//a") == []
    assert body.findall(".//img") == []
    assert "[a](javascript:alert(1))" in body.text_content()
    captions = built.page("captions-with-markup").findall(
        ".//section[@class='source-images']//figure"
    )
    assert [len(f.findall("img")) for f in captions] == [1, 0, 0, 0, 1]
    assert captions[4].find("img").get("alt") == '" onerror="alert(8)'


def test_a_host_urllib_cannot_read_is_no_image_and_no_link(built: Built) -> None:
    """`ftp://[broken/`: urllib raises ValueError on such a host; the build once did too."""
    page = built.page("malformed-image-hosts")
    assert page.findall(".//img") == []
    assert page.find(".//meta[@property='og:image']") is None
    assert "[a mirror](ftp://[broken/)" in page.find(".//div[@class='body']").text_content()
    captions = [f.findtext("figcaption") for f in page.findall(".//figure")]
    assert captions == [
        "A picture from a broken host",
        "Related from a broken host",
        "Related from a broken https host",
    ]


def test_front_matter_markup_is_text_everywhere(built: Built) -> None:
    page = built.page("script-alert-slug-script")
    dateline = page.find(".//span[@class='dateline']")
    assert "".join(dateline.itertext()) == "<script>alert('dateline')</script>"
    tags = [a.text for a in page.findall(".//ul[@class='tag-list']//a")]
    assert tags == [
        "<script>alert('tag')</script>",
        '" onmouseover="alert(5)',
        "<svg onload=alert(6)>",
    ]
    description = page.find(".//meta[@name='description']").get("content")
    assert description == "<img src=x onerror=alert(3)> summary <a href=javascript:alert(4)>x</a>"


def test_control_characters_leave_every_feed_well_formed(built: Built) -> None:
    feed = etree.parse(str(built.output / "feed.xml"))
    titles = feed.findall(
        ".//{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title"
    )
    assert "Control [31mcharacters here" in [t.text for t in titles]


def test_identical_texts_are_published_once(built: Built) -> None:
    sitemap = (built.output / "sitemap.xml").read_text()
    assert sitemap.count("/articles/identical-texts") == 1


def test_strict_fails_on_the_hostile_site(built: Built) -> None:
    done = run_newsgen("build", "--site", str(built.site), "--strict", "--quiet")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert sorted(problem_lines(done.stderr)) == sorted(
        line for lines in MESSAGES.values() for line in lines
    )


def test_newsgen_check_passes_on_the_hostile_site(built: Built) -> None:
    done = run_newsgen("check", "--site", str(built.site))
    assert (done.returncode, done.stdout) == (0, ""), done.stdout


# --- files that cannot be read as files ----------------------------------------------------

SETPRIV = shutil.which("setpriv")
# Tests run as root, which reads a file of mode 000: without these capabilities it cannot.
UNPRIVILEGED = [
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
]
GOOD_SEED = "Good seed\n\nRoma – This article is built whatever its neighbours are.\n"
UNREADABLE = (
    "seeds/unreadable.txt: not readable (permission denied); skipped; check its permissions"
)


def run_unprivileged(*args: str) -> subprocess.CompletedProcess[str]:
    assert SETPRIV is not None
    return subprocess.run(
        [SETPRIV, *UNPRIVILEGED, sys.executable, "-m", "newsgen", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def article_pages(site: Path) -> list[str]:
    return sorted(p.name for p in (site / "build" / "articles").iterdir())


@pytest.mark.skipif(SETPRIV is None, reason="setpriv (util-linux) is not installed")
def test_an_unreadable_file_is_skipped_with_its_name_and_the_rest_is_built(
    make_site: MakeSite,
) -> None:
    site = make_site(
        {"seeds/good.txt": GOOD_SEED, "seeds/unreadable.txt": "Secret\n\nNot for us.\n"}
    )
    (site / "seeds" / "unreadable.txt").chmod(0)
    done = run_unprivileged("build", "--site", str(site))
    assert (done.returncode, problem_lines(done.stderr)) == (0, [UNREADABLE]), done.stderr
    assert "1 error; 2 input files: 1 built, 0 skipped, 1 failed." in done.stderr
    assert article_pages(site) == ["good-seed"]
    strict = run_unprivileged("build", "--site", str(site), "--strict", "--quiet")
    assert (strict.returncode, problem_lines(strict.stderr)) == (1, [UNREADABLE])
    assert "Traceback" not in done.stderr + strict.stderr


@pytest.mark.skipif(SETPRIV is None, reason="setpriv (util-linux) is not installed")
def test_a_file_made_unreadable_then_readable_again_is_built_as_by_a_clean_build(
    make_site: MakeSite,
) -> None:
    """chmod changes no size and no mtime: the cache must not answer for the file."""
    site = make_site({"seeds/good.txt": GOOD_SEED, "seeds/other.txt": "Other\n\nOther text.\n"})
    other = site / "seeds" / "other.txt"
    assert run_unprivileged("build", "--site", str(site)).returncode == 0
    assert article_pages(site) == ["good-seed", "other"]
    other.chmod(0)
    done = run_unprivileged("build", "--site", str(site))
    assert problem_lines(done.stderr) == [
        "seeds/other.txt: not readable (permission denied); skipped; check its permissions"
    ]
    assert article_pages(site) == ["good-seed"]
    other.chmod(0o644)
    again = run_unprivileged("build", "--site", str(site))
    assert (again.returncode, problem_lines(again.stderr)) == (0, [])
    assert article_pages(site) == ["good-seed", "other"]


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda path: os.mkfifo(path), "not a regular file (a named pipe)"),
        (lambda path: path.symlink_to("/dev/zero"), "not a regular file (a device)"),
        (lambda path: path.mkdir(), "not a regular file (a folder)"),
        (lambda path: path.symlink_to(path), "not readable (too many levels of symbolic links)"),
    ],
    ids=["pipe", "device", "folder", "loop"],
)
def test_a_file_that_became_something_else_since_it_was_listed_is_never_read(
    tmp_path: Path, make: Callable[[Path], None], why: str
) -> None:
    """The second wall: opened without blocking and checked once open. A pipe with no writer
    would block a plain open; /dev/zero would never end."""
    path = tmp_path / "seed.txt"
    make(path)
    with pytest.raises(Unreadable) as raised:
        read_source(str(path), 1024, 0.001)
    assert raised.value.why.startswith(f"{why}; skipped")


def test_a_seed_that_became_a_pipe_after_the_scan_is_a_problem_read_again_next_time(
    tmp_path: Path,
) -> None:
    """Its worker reports it; the hash it returns is no file's, so that nothing is kept."""
    pipe = tmp_path / "seed.txt"
    os.mkfifo(pipe)
    seed = collect.Source(path="seeds/seed.txt", file=str(pipe), sha="")
    unit = collect.Unit(key="", order=seed.path, seed=seed, curated=None)
    enricher = collect.Enricher(
        units=(unit,), language="en", timezone="UTC", known={}, limit=collect.Limit(1024, 0.001)
    )
    assert enricher.draft(unit) == (
        collect.UNREAD,
        None,
        [
            Problem(
                path="seeds/seed.txt",
                level="error",
                message="not a regular file (a named pipe); skipped; only regular files are read",
            )
        ],
    )


def test_a_file_that_grew_past_the_limit_since_it_was_listed_is_not_read_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "seed.txt"
    path.write_bytes(b"x" * 3000)
    with pytest.raises(Unreadable) as raised:
        read_source(str(path), 2048, 0.002)
    assert raised.value.why == (
        "0.00286 MB, over max_file_mb (0.002); skipped; split the file, or raise max_file_mb "
        "in newsgen.yaml"
    )


def test_a_file_over_max_file_mb_is_never_opened(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(
        {
            "newsgen.yaml": "max_file_mb: 0.01\n",
            "seeds/good.txt": GOOD_SEED,
            "seeds/big.txt": "Big\n\n" + "parola " * 3000,
            "articles/big.md": "---\ntitle: Big\n---\n" + "parola " * 3000,
        }
    )
    opened: list[str] = []
    real = collect.read_source

    def watched(path: str, limit: int | None = None, mb: float = 0) -> bytes:
        opened.append(Path(path).name)
        return real(path, limit, mb)

    monkeypatch.setattr(collect, "read_source", watched)
    _, result = build_site(site)
    assert sorted(str(p) for p in result.problems) == [
        "articles/big.md: 0.02 MB, over max_file_mb (0.01); skipped; split the file, or "
        "raise max_file_mb in newsgen.yaml",
        "seeds/big.txt: 0.02 MB, over max_file_mb (0.01); skipped; split the file, or "
        "raise max_file_mb in newsgen.yaml",
    ]
    assert "big.txt" not in opened and "big.md" not in opened
    assert article_pages(site) == ["good-seed"]


# --- in a real browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(built: Built) -> Iterator[str]:
    """The hostile build on 127.0.0.1, an ephemeral port."""
    with serve(built.output, "/") as url:
        yield url.rstrip("/")


ACTIVE_IN_DOM = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    const themeSearch = tag === 'form' && el.getAttribute('role') === 'search';
    if (['iframe', 'frame', 'svg', 'math', 'object', 'embed', 'base', 'form'].includes(tag)
        && !themeSearch) {
      found.push(tag);
    }
    if (tag === 'script' && el.type !== 'application/ld+json') found.push('script');
    for (const attribute of el.attributes) {
      if (attribute.name.startsWith('on')) found.push(`${tag} ${attribute.name}`);
    }
  }
  return found;
}"""


def test_every_page_keeps_the_theme_title_and_opens_no_dialog_in_chromium(
    built: Built, served: str, page: Page
) -> None:
    """Chromium parses each page as HTML5 does; a script that ran would change the title
    or open a dialog, and any active element would show in the DOM."""
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(f"{page.url}: {dialog.type} {dialog.message}")
        dialog.dismiss()

    page.on("dialog", dismiss)
    files = sorted(built.output.rglob("*.html"))
    # 73 pages of the theme and articles, and /search/; the articles' four languages give
    # six of them: the languages' index and a listing per language (two pages of English).
    assert len(files) == 74
    folders = [f.parent.relative_to(built.output).as_posix() for f in files]
    assert sorted(f for f in folders if f.startswith("languages")) == [
        "languages",
        "languages/ar",
        "languages/en",
        "languages/en/page/2",
        "languages/fr",
        "languages/ja",
    ]
    for file in files:
        relative = file.relative_to(built.output).as_posix()
        if relative in THEME_FILES:  # the search page runs the theme's own scripts
            continue
        expected = html.parse(str(file)).getroot().findtext(".//title")
        page.goto(f"{served}/{relative}", wait_until="load")
        assert page.evaluate("document.title") == expected, relative
        assert page.evaluate(ACTIVE_IN_DOM) == [], relative
    assert dialogs == []
    assert built.page("script-alert-slug-script").findtext(".//title") == (
        "<script>alert('title')</script><svg onload=alert(1)><iframe src=javascript:alert(2)>"
        " · Hostile archive"
    )


def test_a_scan_that_stats_on_two_processes_finds_what_one_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The odd files of the hostile site, stat'ed by a forked process (as in a large site's
    rebuild) are skipped with the same problems."""
    site, _ = copy_hostile_site(tmp_path)
    config = load_config(site)
    found = {}
    for jobs in (1, 2):
        monkeypatch.setattr(parallel, "MIN_FORKED_STAT", 0 if jobs == 2 else 10**9)
        cache = Cache(tmp_path / f"cache-{jobs}.sqlite")
        try:
            found[jobs] = collect.scan(config, cache, jobs=jobs)
        finally:
            cache.close()
    one, two = found[1], found[2]
    assert (two.seeds, two.curated, two.problems) == (one.seeds, one.curated, one.problems)
    assert any("named pipe" in p.message for p in one.problems)
