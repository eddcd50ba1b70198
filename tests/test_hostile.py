"""Hostile input: broken, mis-encoded, duplicated and malicious files, built as one site.

tests/data/hostile holds one tiny file per case, named for it; the fixture adds what cannot
live in the repository (a 5 MB article, a 3,000-word line, a symlink out of the site). The site
is built once, through the command line as a user runs it, and every case asserts its exact
message and its page, while the good articles prove that nothing else was lost.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree, html
from playwright.sync_api import Dialog, Page

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
    return site, marker


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
KEYS = "valid keys: title, date, slug, lang, dateline, tags, summary, draft, aliases, source"
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
            f"articles/yaml_alias_bomb.md:{n}: '{key}' is not a front matter key; {KEYS}"
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
            ("dot_dot", "..", "8eb30937bcfdb421"),
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
        "parola " * 14
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
    "8eb30937bcfdb421": "Slug case dot_dot",
    "2e-2e-2f-2e-2e-2fescaped": "Slug case percent_encoded",
    "windows": "Slug case backslashes",
    "a-b": "Slug case dots_inside",
}


def reported(built: Built) -> list[str]:
    return problem_lines(built.stderr)


def problem_lines(stderr: str) -> list[str]:
    """The `file:line: problem` lines (not the summary or timing lines)."""
    return [line for line in stderr.splitlines() if line.startswith(("seeds/", "articles/"))]


def test_the_build_succeeds_without_a_traceback(built: Built) -> None:
    assert built.code == 0, built.stderr
    assert "Traceback" not in built.stderr
    assert built.stderr.splitlines()[-1].startswith("Built 34 articles, ")
    assert "; 22 warnings, 17 errors, 14 skipped files." in built.stderr


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


def test_arabic_pages_are_right_to_left(built: Built) -> None:
    for slug in ("nfjr-kbyr-fy-mrf-byrwt", "nwn-rby-llmql"):
        root = built.page(slug)
        assert (root.get("lang"), root.get("dir")) == ("ar", "rtl")
    assert built.page("good-control-article").get("dir") == "ltr"


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
    (paragraph,) = page.findall(".//div[@class='body']/p")
    assert paragraph.text == " ".join(["parola"] * 3000)


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
    assert figure.findtext("figcaption/span[@class='credit']") == "Council of the EU"
    gallery = page.findall(".//section[@class='related']//figure")
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
    captions = built.page("captions-with-markup").findall(".//section[@class='related']//figure")
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
    tags = [a.text for a in page.findall(".//ul[@class='tags']//a")]
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
    assert len(files) == 61  # 60 pages of the theme and articles, and /search/
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
