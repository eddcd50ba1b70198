"""Editorial workflow: `init`, `new`, `import`, stable URLs with redirects, drafts."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from newsgen import identity, scaffold, urls
from newsgen.build import build
from newsgen.cache import Cache
from newsgen.config import Config, load_config
from newsgen.load import parse_curated
from newsgen.plan import Page, Redirect, url_to_path
from newsgen.records import Article
from tests.conftest import REPO, MakeSite, build_site
from tests.util import VNU, VNU_COMMAND, in_process

ROMA = (
    "Roma – Il consiglio comunale ha approvato il bilancio dopo una lunga seduta notturna. "
    "La maggioranza ha votato compatta.\n"
    "L'opposizione ha annunciato ricorso al tribunale amministrativo.\n"
)
PARIS = (
    "Paris – Le conseil municipal a adopté le budget après une longue séance de nuit. "
    "La majorité a voté unie.\n"
    "L'opposition a annoncé un recours devant le tribunal administratif.\n"
)
ROMA_URL = (
    "/articles/il-consiglio-comunale-ha-approvato-il-bilancio-dopo-una-lunga-seduta-notturna/"
)
PARIS_URL = "/articles/le-conseil-municipal-a-adopte-le-budget-apres-une-longue-seance-de-nuit/"
SUBPATH = "base_url: https://example.org/archivio/\n"


def article(id_: str, slug: str, *, draft: bool = False, aliases: tuple[str, ...] = ()) -> Article:
    return Article(
        id=id_,
        path=f"articles/{id_}.md",
        order=0,
        title=f"Title {id_}",
        slug=slug,
        lang="en",
        dateline=None,
        date=None,
        published=None,
        summary="",
        tags=(),
        related=(),
        image=None,
        body_key=id_,
        draft=draft,
        aliases=aliases,
    )


def output_text(output: Path) -> str:
    """Every built file's text, to search the whole site at once."""
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in output.rglob("*") if p.is_file()
    )


# --- aliases --------------------------------------------------------------------------------

NOT_PLAIN = "is not a plain path; use letters, digits, '-', '_' and '.' between slashes"
CONTROL = "holds a control character (a newline, a tab, %0a…); remove it"
TOO_LONG = "has a segment longer than 200 bytes, more than a file name may hold; shorten it"
NOT_SITE = "is not a path of this site; write it from the site's root, such as '/old/'"


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("/old/", ("/old/", None)),
        ("old", ("/old/", None)),
        ("/a/b", ("/a/b/", None)),
        ("/news/123.html", ("/news/123.html", None)),
        ("/news/mr.-smith", ("/news/mr.-smith/", None)),
        ("/caf%C3%A9/", ("/café/", None)),
        ("/", ("/", None)),
        ("https://example.org/old/", (None, NOT_SITE)),
        ("//evil.example/old/", (None, NOT_SITE)),
        ("https://[old/x/", (None, NOT_SITE)),
        ("//[old/x/", (None, NOT_SITE)),
        ("/a/../../etc/", (None, "has a '.' or '..' segment; write the path in full")),
        ("/a/%2e%2e/b/", (None, "has a '.' or '..' segment; write the path in full")),
        ("/a/./b/", (None, "has a '.' or '..' segment; write the path in full")),
        ("/old/?id=3", (None, "has a query or a fragment, which a static page cannot answer")),
        ("/old/#top", (None, "has a query or a fragment, which a static page cannot answer")),
        ("/a//b/", (None, "has an empty segment ('//')")),
        ("/.git/config", (None, NOT_PLAIN)),
        ("/a\\b/", (None, NOT_PLAIN)),
        ("/a b/", (None, NOT_PLAIN)),
        ("/a%00b/", (None, CONTROL)),
        ("/a%0a/", (None, CONTROL)),
        ("/a\nb/", (None, CONTROL)),
        ("/x%7f.html", (None, CONTROL)),
        ("/\ud800/", (None, NOT_PLAIN)),
        ("/" + "a" * 200 + "/", ("/" + "a" * 200 + "/", None)),
        ("/" + "a" * 201 + "/", (None, TOO_LONG)),
        ("/" + "é" * 101 + ".html", (None, TOO_LONG)),
        ("/" + "a" * 300, (None, TOO_LONG)),
        ("/a" * 999 + "/", ("/a" * 999 + "/", None)),
        ("/ab" * 667 + "/", (None, "is longer than 2000 bytes; shorten it")),
    ],
)
def test_aliases_are_normalised_site_paths(
    alias: str, expected: tuple[str | None, str | None]
) -> None:
    assert urls.normalise_alias(alias) == expected


# --- planning redirects ---------------------------------------------------------------------


def taken(*articles: Article) -> set[str]:
    pages = [Page(url=f"/articles/{a.slug}/", template="article.html") for a in articles]
    pages += [Page(url="/feed.xml", template="feed.xml"), Page(url="/", template="index.html")]
    return urls.taken_files(pages, ["/assets/style.css"])


def test_the_redirects_files_join_the_files_taken_which_are_not_copied() -> None:
    """A copy of every page's file name was as many entries as the site has pages, at the
    end of the plan, where a first build's memory peaks."""
    a = article("a1", "new-name")
    registry = urls.Registry(urls={"a1": ("/articles/new-name/", "/articles/old-name/")})
    files = taken(a)
    before = set(files)
    urls.plan_redirects(registry, [a], files)
    assert files - before == {"articles/old-name/index.html"}


def test_old_urls_in_the_registry_redirect_to_the_current_one() -> None:
    a = article("a1", "new-name")
    registry = urls.Registry(urls={"a1": ("/articles/new-name/", "/articles/old-name/")})
    redirects, problems = urls.plan_redirects(registry, [a], taken(a))
    assert redirects == [
        Redirect(
            source="/articles/old-name/",
            href="/articles/old-name/",
            target="/articles/new-name/",
            title="Title a1",
            lang="en",
        )
    ]
    assert problems == []


def test_no_redirect_to_an_article_that_is_not_built() -> None:
    draft = article("d1", "draft-now", draft=True)
    registry = urls.Registry(urls={"gone": ("/articles/old/",), "d1": ("/articles/was/",)})
    redirects, problems = urls.plan_redirects(registry, [draft], taken())
    assert (redirects, problems) == ([], [])


def test_a_redirect_never_replaces_a_page() -> None:
    a, b = article("a1", "renamed", aliases=("/feed.xml/x/", "/", "/assets/")), article("b1", "old")
    registry = urls.Registry(urls={"a1": ("/articles/old/",)})
    redirects, problems = urls.plan_redirects(registry, [a, b], taken(a, b))
    assert [r.source for r in redirects] == ["/assets/"]
    why = "is a page of the site, which a redirect to /articles/renamed/ must not replace; ignored"
    assert [str(p) for p in problems] == [
        f"articles/a1.md: old URL /articles/old/ {why}",
        f"articles/a1.md: alias '/feed.xml/x/' {why}",
        f"articles/a1.md: alias '/' {why}",
    ]


def test_alias_conflicts_are_reported_and_the_first_claim_wins() -> None:
    a = article("a1", "one", aliases=("/old/", "/articles/one/", "old", "../x"))
    b = article("b1", "two", aliases=("/old/",))
    registry = urls.Registry(urls={"b1": ("/old/",)})
    redirects, problems = urls.plan_redirects(registry, [a, b], taken(a, b))
    assert [(r.source, r.target) for r in redirects] == [("/old/", "/articles/two/")]
    assert [str(p) for p in problems] == [
        "articles/a1.md: alias '/old/' already redirects to /articles/two/; ignored",
        "articles/a1.md: alias '/articles/one/' is this article's own URL; remove it; ignored",
        "articles/a1.md: alias 'old' already redirects to /articles/two/; ignored",
        "articles/a1.md: alias '../x' has a '.' or '..' segment; write the path in full; ignored",
    ]


def test_non_ascii_aliases_are_percent_encoded_for_hosts() -> None:
    a = article("a1", "one", aliases=("/perché/",))
    redirects, _ = urls.plan_redirects(urls.Registry(), [a], taken(a))
    assert (redirects[0].source, redirects[0].href) == ("/perché/", "/perch%C3%A9/")


# --- the registry ---------------------------------------------------------------------------


def test_registry_records_published_articles_sorted_and_deterministically() -> None:
    registry = urls.Registry(urls={"b": ("/articles/z/",), "old": ("/articles/gone/",)})
    articles = [article("b", "a"), article("a", "m"), article("d", "draft", draft=True)]
    recorded = urls.recorded(registry, articles)
    assert recorded == {
        "a": ("/articles/m/",),
        "b": ("/articles/a/", "/articles/z/"),
        "old": ("/articles/gone/",),
    }
    text = urls.dump_registry(recorded)
    assert text == urls.dump_registry(dict(reversed(recorded.items())))
    assert text.endswith(
        '"a":\n- /articles/m/\n"b":\n- /articles/a/\n- /articles/z/\n"old":\n- /articles/gone/\n'
    )
    assert urls.parse_registry(yaml.safe_load(text)) == (urls.Registry(urls=recorded), [])


def test_registry_text_is_yaml_read_quickly_or_by_the_yaml_parser() -> None:
    urls_by_id = {"0123456789012345": ("/articles/a/", "/perché/"), "b": ("/x.html",)}
    text = urls.dump_registry(urls_by_id)
    assert text == urls.HEADER + (
        '"0123456789012345":\n- /articles/a/\n- "/perché/"\n"b":\n- /x.html\n'
    )
    as_yaml = yaml.safe_load(text)
    assert urls.read_registry(text) == as_yaml
    assert urls.parse_registry(as_yaml) == (urls.Registry(urls=urls_by_id), [])
    by_hand = "b: /x.html\n'0123456789012345': [/perché/, /articles/a/]\n"
    assert urls.read_registry(by_hand) == {
        "b": "/x.html",
        "0123456789012345": ["/perché/", "/articles/a/"],
    }
    assert urls.parse_registry(urls.read_registry(by_hand)) == (
        urls.Registry(urls=urls_by_id),
        [],
    )


def test_a_bad_registry_entry_is_reported_and_the_file_left_alone(tmp_path: Path) -> None:
    bad = "a: [/articles/x/]\nb: [https://example.org/y/]\n"
    (tmp_path / "urls.yaml").write_text(bad, encoding="utf-8")
    registry, problems = urls.load_registry(tmp_path)
    assert dict(registry.urls) == {"a": ("/articles/x/",)}
    assert [str(p) for p in problems] == [
        "urls.yaml: 'b': expected a list of URLs such as ['/articles/name/']; fix it or restore "
        "it from version control (until then it is not updated and its old URLs may not "
        "redirect)"
    ]
    assert urls.save_registry(tmp_path, registry, [article("c", "c")]) == []
    assert (tmp_path / "urls.yaml").read_text(encoding="utf-8") == bad


def test_a_registry_read_before_is_recalled_until_its_bytes_change(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache.sqlite")
    path = tmp_path / "urls.yaml"
    path.write_text('"a":\r\n- /articles/x/\r\n', encoding="utf-8")
    first = urls.load_registry(tmp_path, cache)
    assert first == (urls.Registry(urls={"a": ("/articles/x/",)}), [])
    assert urls.load_registry(tmp_path, cache) == first
    path.write_text('"a":\n- /articles/y/\n', encoding="utf-8")
    assert urls.load_registry(tmp_path, cache)[0].urls == {"a": ("/articles/y/",)}
    path.write_text("a: [https://example.org/y/]\n", encoding="utf-8")
    assert not urls.load_registry(tmp_path, cache)[0].writable
    assert not urls.load_registry(tmp_path, cache)[0].writable  # a bad file is never recalled
    cache.close()


def test_registry_that_is_not_yaml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "urls.yaml").write_text("a: [/x/\nb: c: d\n", encoding="utf-8")
    registry, problems = urls.load_registry(tmp_path)
    assert not registry.writable
    assert [str(p) for p in problems] == [
        "urls.yaml:2: not valid YAML (did not find expected ',' or ']'); fix it or restore it "
        "from version control (until then it is not updated and its old URLs may not redirect)"
    ]


def test_a_registry_that_cannot_be_written_is_a_problem_not_a_failed_build(
    tmp_path: Path,
) -> None:
    (tmp_path / "urls.yaml").mkdir()  # in the way of the rename
    (tmp_path / "urls.yaml" / "kept.txt").write_text("kept")
    problems = urls.save_registry(tmp_path, urls.Registry(), [article("a", "one")])
    assert [str(p) for p in problems] == [
        "urls.yaml: cannot be written (Is a directory); the URLs of this build are not "
        "recorded; make the site folder writable and build again"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["urls.yaml"]


def test_registry_is_rewritten_only_when_something_is_new(tmp_path: Path) -> None:
    a = article("a", "one")
    assert urls.save_registry(tmp_path, urls.Registry(), []) == []
    assert not (tmp_path / "urls.yaml").exists()
    urls.save_registry(tmp_path, urls.Registry(), [a])
    first = (tmp_path / "urls.yaml").stat().st_ino
    registry, _ = urls.load_registry(tmp_path)
    urls.save_registry(tmp_path, registry, [a])
    assert (tmp_path / "urls.yaml").stat().st_ino == first


# --- whole builds: redirects ----------------------------------------------------------------


def retitle(site: Path, seed: str, title: str, extra: str = "") -> None:
    text = f"---\nsource: seeds/{seed}\ntitle: {title}\n{extra}---\n"
    (site / "articles").mkdir(exist_ok=True)
    (site / "articles" / "curated.md").write_text(text, encoding="utf-8")


def test_retitled_article_leaves_a_redirect_at_its_old_url(make_site: MakeSite) -> None:
    site = make_site({"seeds/roma.txt": ROMA, "newsgen.yaml": SUBPATH})
    config, _ = build_site(site)
    registry = (site / "urls.yaml").read_text(encoding="utf-8")
    retitle(site, "roma.txt", "Bilancio approvato a Roma")
    _, result = build_site(site)
    assert result.problems == ()
    new = "/articles/bilancio-approvato-a-roma/"
    assert (config.output_dir / url_to_path(new)).is_file()
    page = (config.output_dir / url_to_path(ROMA_URL)).read_text(encoding="utf-8")
    assert '<meta name="robots" content="noindex">' in page
    assert f'<link rel="canonical" href="https://example.org/archivio{new}">' in page
    assert f'<meta http-equiv="refresh" content="0; url=/archivio{new}">' in page
    assert f'<a href="/archivio{new}">Bilancio approvato a Roma</a>' in page
    assert (config.output_dir / "_redirects").read_text(encoding="utf-8") == (
        f"/archivio{ROMA_URL} /archivio{new} 301\n"
    )
    assert ROMA_URL not in (config.output_dir / "sitemap.xml").read_text(encoding="utf-8")
    assert (site / "urls.yaml").read_text(encoding="utf-8") == registry.replace(
        f"  - {ROMA_URL}", f"  - {new}\n  - {ROMA_URL}"
    )


def test_retitling_back_removes_the_redirect(make_site: MakeSite) -> None:
    site = make_site({"seeds/roma.txt": ROMA})
    build_site(site)
    retitle(site, "roma.txt", "Bilancio approvato a Roma")
    config, _ = build_site(site)
    (site / "articles" / "curated.md").unlink()
    _, result = build_site(site)
    assert (config.output_dir / "articles/bilancio-approvato-a-roma/index.html").read_text(
        encoding="utf-8"
    ).count('http-equiv="refresh"') == 1
    assert "refresh" not in (config.output_dir / url_to_path(ROMA_URL)).read_text(encoding="utf-8")
    assert (config.output_dir / "_redirects").read_text(encoding="utf-8") == (
        f"/articles/bilancio-approvato-a-roma/ {ROMA_URL} 301\n"
    )
    assert result.problems == ()


def test_an_article_without_a_seed_keeps_its_old_url_when_retitled(make_site: MakeSite) -> None:
    text = "---\ntitle: {}\n---\n\nIl bilancio è approvato.\n"
    site = make_site({"articles/bilancio.md": text.format("Bilancio")})
    build_site(site)
    (site / "articles/bilancio.md").write_text(text.format("Bilancio di Roma"), encoding="utf-8")
    config, result = build_site(site)
    assert result.problems == ()
    assert (config.output_dir / "_redirects").read_text(encoding="utf-8") == (
        "/articles/bilancio/ /articles/bilancio-di-roma/ 301\n"
    )


def test_a_new_article_at_an_old_url_wins_over_its_redirect(make_site: MakeSite) -> None:
    site = make_site({"seeds/roma.txt": ROMA})
    build_site(site)
    retitle(site, "roma.txt", "Bilancio approvato a Roma")
    build_site(site)
    old_slug = ROMA_URL.split("/")[2]
    (site / "seeds" / "paris.txt").write_text(PARIS, encoding="utf-8")
    (site / "articles" / "paris.md").write_text(
        f"---\nsource: seeds/paris.txt\nslug: {old_slug}\n---\n", encoding="utf-8"
    )
    config, result = build_site(site)
    assert [str(p) for p in result.problems] == [
        f"articles/curated.md: old URL {ROMA_URL} is a page of the site, which a redirect to "
        "/articles/bilancio-approvato-a-roma/ must not replace; ignored"
    ]
    page = (config.output_dir / url_to_path(ROMA_URL)).read_text(encoding="utf-8")
    assert "Le conseil municipal" in page
    assert "refresh" not in page
    assert not (config.output_dir / "_redirects").exists()


def test_aliases_add_redirects_and_never_leave_the_output(make_site: MakeSite) -> None:
    curated = (
        "---\ntitle: Bilancio\naliases: [/2019/03/bilancio.html, vecchio/bilancio, "
        "../../outside/, /feed.xml, https://old.example/x/]\n---\n\nIl bilancio è approvato.\n"
    )
    site = make_site({"articles/bilancio.md": curated, "newsgen.yaml": SUBPATH})
    config, result = build_site(site)
    assert [str(p) for p in result.problems] == [
        "articles/bilancio.md: alias '../../outside/' has a '.' or '..' segment; write the "
        "path in full; ignored",
        "articles/bilancio.md: alias '/feed.xml' is a page of the site, which a redirect to "
        "/articles/bilancio/ must not replace; ignored",
        "articles/bilancio.md: alias 'https://old.example/x/' is not a path of this site; "
        "write it from the site's root, such as '/old/'; ignored",
    ]
    out = config.output_dir
    assert 'url=/archivio/articles/bilancio/"' in (out / "2019/03/bilancio.html").read_text(
        encoding="utf-8"
    )
    assert (out / "vecchio/bilancio/index.html").is_file()
    assert not (site / "outside").exists() and not (site.parent / "outside").exists()
    assert "<feed" in (out / "feed.xml").read_text(encoding="utf-8")
    assert (out / "_redirects").read_text(encoding="utf-8") == (
        "/archivio/2019/03/bilancio.html /archivio/articles/bilancio/ 301\n"
        "/archivio/vecchio/bilancio/ /archivio/articles/bilancio/ 301\n"
    )


@pytest.mark.skipif(not VNU.is_file(), reason="needs vnu.jar (scripts/test installs it)")
def test_redirect_and_draft_pages_are_valid_html(make_site: MakeSite) -> None:
    draft = "---\ntitle: Bozza segreta\ndraft: true\n---\n\nTesto della bozza.\n"
    site = make_site({"seeds/roma.txt": ROMA, "articles/bozza.md": draft})
    build_site(site)
    retitle(site, "roma.txt", "Bilancio approvato a Roma")
    config, _ = build_site(site)
    build(config, jobs=1, drafts=True)
    pages = [url_to_path(ROMA_URL), "articles/bozza-segreta/index.html"]
    # The checker takes the JSON-LD data block for an inline script the page's policy refuses;
    # browsers never run a data block (test_search_safety checks that no real one is there).
    data_block = ".*Inline script violates Content Security Policy.*"
    checked = subprocess.run(
        [*VNU_COMMAND, "--filterpattern", data_block] + [str(config.output_dir / p) for p in pages],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, checked.stderr) == (0, "")


# --- drafts ---------------------------------------------------------------------------------

DRAFT = (
    "---\ntitle: Notizia riservatissima\ndraft: true\ntags: [segreto]\ndateline: Atlantide\n"
    "lang: it\naliases: [/vecchia-bozza/]\ndate: 2021-05-04\n---\n\nTesto riservato della bozza.\n"
)


def test_a_draft_appears_on_no_built_page(make_site: MakeSite) -> None:
    site = make_site({"seeds/roma.txt": ROMA, "articles/bozza.md": DRAFT})
    config, result = build_site(site)
    assert result.articles == 1
    everything = output_text(config.output_dir)
    for word in ("riservat", "notizia-riservatissima", "segreto", "Atlantide", "vecchia-bozza"):
        assert word not in everything
    assert "/2021/" not in everything
    assert "notizia-riservatissima" not in (site / "urls.yaml").read_text(encoding="utf-8")


def test_drafts_build_shows_them_marked_and_records_nothing(make_site: MakeSite) -> None:
    site = make_site({"seeds/roma.txt": ROMA, "articles/bozza.md": DRAFT})
    config, _ = build_site(site)
    registry = (site / "urls.yaml").read_bytes()
    result = build(config, jobs=1, drafts=True)
    assert result.notes == ("drafts are included (--drafts): do not publish this build",)
    page = (config.output_dir / "articles/notizia-riservatissima/index.html").read_text(
        encoding="utf-8"
    )
    # The note speaks the site's language (English), not the Italian article's.
    assert '<p class="draft" role="note" lang="en" dir="ltr"><strong>Draft</strong></p>' in page
    assert '<article class="story" lang="it"' in page
    assert "notizia-riservatissima" in (config.output_dir / "index.html").read_text(
        encoding="utf-8"
    )
    assert (config.output_dir / "vecchia-bozza/index.html").is_file()
    assert (site / "urls.yaml").read_bytes() == registry
    _, result = build_site(site)
    assert "riservat" not in output_text(config.output_dir)
    assert result.removed > 0


def test_only_a_real_build_writes_the_registry(make_site: MakeSite) -> None:
    site = make_site({"seeds/roma.txt": ROMA, "articles/bozza.md": DRAFT})
    build(load_config(site), jobs=1, drafts=True)
    assert not (site / "urls.yaml").exists()
    build_site(site)
    sketch = identity.sketch(ROMA)
    assert (site / "urls.yaml").read_text(encoding="utf-8") == urls.HEADER + (
        f'"{identity.path_id("seeds/roma.txt")}":\n  file: "seeds/roma.txt"\n'
        f'  text: "{sketch}"\n  urls:\n  - {ROMA_URL}\n'
    )


def test_published_article_page_has_no_draft_marker(make_site: MakeSite) -> None:
    config, _ = build_site(make_site({"seeds/roma.txt": ROMA}))
    page = (config.output_dir / url_to_path(ROMA_URL)).read_text(encoding="utf-8")
    assert 'class="draft"' not in page


# --- init -----------------------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return in_process(*argv)


def test_init_makes_a_site_that_builds_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "mysite"
    assert run(["init", str(site)], capsys) == (
        0,
        f"Created a new site in {site}:\n  newsgen.yaml\n  seeds/\n  articles/\n"
        f"  templates/README.md\n  .gitignore\n  requirements.txt\n"
        "  .github/workflows/pages.yml\n"
        "The site's address is http://localhost:8000/ (this machine) until you set base_url "
        f"in {site}/newsgen.yaml to the public one.\n"
        f"Next: add seed files to {site}/seeds, then: newsgen build --site {site}\n",
        "",
    )
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*")) == [
        ".github",
        ".github/workflows",
        ".github/workflows/pages.yml",
        ".gitignore",
        "articles",
        "newsgen.yaml",
        "requirements.txt",
        "seeds",
        "templates",
        "templates/README.md",
    ]
    assert (site / ".gitignore").read_text(encoding="utf-8").splitlines()[1:] == [
        "/build/",
        "/.newsgen/",
    ]
    assert load_config(site) == Config(root=site.resolve())
    readme = (site / "templates" / "README.md").read_text(encoding="utf-8")
    assert "- `partials/footer.html`" in readme and "- `assets/style.css`" in readme
    code, _, err = run(["build", "--site", str(site), "-j", "1"], capsys)
    assert code == 0, err
    assert (site / "build" / "index.html").is_file()
    assert len(list((site / "build" / "assets").glob("style.*.css"))) == 1  # named by content


def test_config_of_a_new_site_explains_every_setting() -> None:
    text = scaffold.config_text(Config(root=Path()))
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0] != "#"]
    assert keys == [
        "title",
        "base_url",
        "language",
        "timezone",
        "per_page",
        "feed_size",
        "search",
        "seeds",
        "articles",
        "templates",
        "output",
        "max_file_mb",
        "media",
        "remote_images",
        "allow_hosts",
        "max_image_mb",
        "compress",
        "headers",
        "csp",
    ]
    # Every setting is explained: a comment before it, or before the group it opens.
    assert text.count("\n# ") >= 11


def test_init_refuses_a_folder_that_is_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert run(["init", str(tmp_path)], capsys) == (
        1,
        "",
        f"Error: {tmp_path} is not empty; give a new or empty folder\n",
    )
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


# --- new ------------------------------------------------------------------------------------


def test_new_writes_a_dated_draft_and_prints_its_path(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"newsgen.yaml": "timezone: Europe/Rome\n"})
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    code, out, err = run(["new", "Il sindaco  parla", "--site", str(site)], capsys)
    after = dt.datetime.now(dt.UTC)
    path = site / "articles" / "il-sindaco-parla.md"
    assert (code, out, err) == (0, f"{path}\n", "")
    draft, problems = parse_curated("articles/il-sindaco-parla.md", path.read_bytes())
    assert problems == [] and draft is not None
    meta = draft.meta
    assert (meta.title, meta.draft, meta.tags, meta.slug) == ("Il sindaco parla", True, (), None)
    assert isinstance(meta.date, dt.datetime)
    assert before <= meta.date <= after
    assert meta.date.utcoffset() == meta.date.astimezone(ZoneInfo("Europe/Rome")).utcoffset()


def test_new_refuses_to_overwrite(make_site: MakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    site = make_site({"articles/il-sindaco-parla.md": "mine"})
    assert run(["new", "Il sindaco parla", "--site", str(site)], capsys) == (
        1,
        "",
        "Error: articles/il-sindaco-parla.md already exists; choose another title, or a file "
        "name with --slug\n",
    )
    assert (site / "articles" / "il-sindaco-parla.md").read_text(encoding="utf-8") == "mine"


def test_new_with_a_slug_and_without_a_usable_title(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({})
    assert run(["new", "!!!", "--site", str(site)], capsys) == (
        1,
        "",
        "Error: '!!!' gives no file name; choose one with --slug\n",
    )
    code, out, _ = run(["new", "!!!", "--slug", "Breve", "--site", str(site)], capsys)
    assert (code, out) == (0, f"{site}/articles/breve.md\n")
    draft, _ = parse_curated("articles/breve.md", (site / "articles/breve.md").read_bytes())
    assert draft is not None and draft.meta.slug == "breve"


def test_a_new_draft_is_built_only_with_drafts(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"seeds/roma.txt": ROMA})
    run(["new", "Il sindaco parla", "--site", str(site)], capsys)
    assert run(["build", "--site", str(site), "-j", "1", "--strict", "-q"], capsys)[0] == 0
    assert "il-sindaco-parla" not in output_text(site / "build")
    assert run(["build", "--site", str(site), "-j", "1", "--drafts", "-q"], capsys) == (
        0,
        "",
        "Note: drafts are included (--drafts): do not publish this build\n",
    )
    page = site / "build" / "articles" / "il-sindaco-parla" / "index.html"
    # The marker speaks the site's language: English, the default.
    note = '<p class="draft" role="note" lang="en" dir="ltr"><strong>Draft</strong></p>'
    assert note in page.read_text(encoding="utf-8")


# --- import ---------------------------------------------------------------------------------


def test_import_writes_derived_fields_and_builds_the_same_urls(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"seeds/roma.txt": ROMA, "seeds/paris.txt": PARIS})
    config, _ = build_site(site)
    before = sorted(p.parent.name for p in (config.output_dir / "articles").glob("*/index.html"))
    roma, paris = (f"articles/{u.split('/')[2]}.md" for u in (ROMA_URL, PARIS_URL))
    assert run(["import", "--site", str(site)], capsys) == (
        0,
        f"wrote {paris} from seeds/paris.txt\nwrote {roma} from seeds/roma.txt\n"
        "Imported 2 seeds: 2 written, 0 skipped.\n",
        "",
    )
    assert (site / roma).read_text(encoding="utf-8") == (
        "---\n"
        "# Curates seeds/roma.txt: correct these fields; the text stays in the seed.\n"
        "source: seeds/roma.txt\n"
        "title: Il consiglio comunale ha approvato il bilancio dopo una lunga seduta notturna\n"
        "date:  # none found: add one\n"
        "dateline: Roma\n"
        "lang: it\n"
        "summary: Il consiglio comunale ha approvato il bilancio dopo una lunga seduta notturna."
        " La maggioranza ha votato compatta.\n"
        "---\n"
    )
    _, result = build_site(site)
    assert result.problems == ()
    after = sorted(p.parent.name for p in (config.output_dir / "articles").glob("*/index.html"))
    assert after == before
    assert not (config.output_dir / "_redirects").exists()


def test_import_never_overwrites_a_curated_file_unless_forced(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = "---\nsource: seeds/roma.txt\ntitle: Il mio titolo\n---\n"
    site = make_site({"seeds/roma.txt": ROMA, "articles/mio.md": mine})
    assert run(["import", "--site", str(site), "seeds/roma.txt"], capsys) == (
        0,
        "skipped seeds/roma.txt: already curated by articles/mio.md; use --force to replace it\n"
        "Imported 1 seed: 0 written, 1 skipped.\n",
        "",
    )
    assert (site / "articles/mio.md").read_text(encoding="utf-8") == mine
    code, out, _ = run(["import", "--site", str(site), "--force", "roma.txt"], capsys)
    assert (code, out) == (
        0,
        "wrote articles/mio.md from seeds/roma.txt\nImported 1 seed: 1 written, 0 skipped.\n",
    )
    assert "title: Il consiglio comunale" in (site / "articles/mio.md").read_text(encoding="utf-8")


def test_import_never_takes_the_name_of_another_article(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"{ROMA_URL.split('/')[2]}.md"
    other = "---\ntitle: Altro\n---\n\nUn altro articolo.\n"
    site = make_site({"seeds/roma.txt": ROMA, "seeds/roma2.txt": ROMA + "Poi.\n"})
    (site / "articles").mkdir()
    (site / "articles" / name).write_text(other, encoding="utf-8")
    code, out, _ = run(["import", "--site", str(site), "--force"], capsys)
    stem = name.removesuffix(".md")
    assert (code, out) == (
        0,
        f"wrote articles/{stem}-2.md from seeds/roma.txt\n"
        f"wrote articles/{stem}-3.md from seeds/roma2.txt\n"
        "Imported 2 seeds: 2 written, 0 skipped.\n",
    )
    assert (site / "articles" / name).read_text(encoding="utf-8") == other


def test_import_of_an_unknown_seed_writes_nothing(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"seeds/roma.txt": ROMA, "elsewhere.txt": PARIS})
    code, out, err = run(
        ["import", "--site", str(site), "roma.txt", "nope.txt", str(site / "elsewhere.txt")],
        capsys,
    )
    assert (code, out) == (1, "")
    assert err == (
        f"Error: nope.txt: no such seed in seeds/; {site / 'elsewhere.txt'}: no such seed in "
        "seeds/; nothing imported\n"
    )
    assert not (site / "articles").exists()


def test_import_reports_a_seed_that_cannot_be_read(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"seeds/empty.txt": "", "seeds/roma.txt": ROMA})
    code, out, err = run(["import", "--site", str(site)], capsys)
    assert code == 0
    assert out.splitlines()[0] == "skipped seeds/empty.txt: cannot be read; see above"
    assert out.splitlines()[-1] == "Imported 2 seeds: 1 written, 1 skipped."
    assert err.startswith("seeds/empty.txt")


def test_import_of_the_demo_seeds_round_trips(tmp_path: Path) -> None:
    """Every field `import` writes reads back to the same article (so no URL moves)."""
    site = tmp_path / "site"
    shutil.copytree(REPO / "seeds", site / "seeds")
    config = load_config(site)
    report = scaffold.import_seeds(config)
    assert len(report.imported) == 271 and all(i.file for i in report.imported)
    for item in report.imported[::9]:
        assert item.file is not None
        seed_article, _ = scaffold.derive(config, item.seed)
        draft, problems = parse_curated(item.file, (site / item.file).read_bytes())
        assert problems == [] and draft is not None and seed_article is not None
        meta = draft.meta
        assert (meta.title, meta.date, meta.dateline, meta.lang, meta.summary) == (
            seed_article.title,
            seed_article.date,
            seed_article.dateline,
            seed_article.lang,
            seed_article.summary,
        )


def test_aliases_no_file_system_can_hold_are_warnings_and_the_build_completes(
    make_site: MakeSite,
) -> None:
    long = "/" + "x" * 300 + "/"
    curated = (
        f"---\ntitle: Bilancio\naliases: ['{long}', '/ab%0a/', '/ok/']\n---\n\n"
        "Il bilancio è approvato.\n"
    )
    site = make_site({"articles/bilancio.md": curated})
    config, result = build_site(site)
    assert [str(p) for p in result.problems] == [
        "articles/bilancio.md: alias '/ab%0a/' holds a control character (a newline, a tab, "
        "%0a…); remove it; ignored",
        f"articles/bilancio.md: alias '{long}' has a segment longer than 200 bytes, more than "
        "a file name may hold; shorten it; ignored",
    ]
    out = config.output_dir
    assert (out / "ok" / "index.html").is_file()
    assert (out / "articles" / "bilancio" / "index.html").is_file()
    assert not any("\n" in p.name for p in out.rglob("*"))
