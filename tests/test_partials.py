"""A site's own partials replace the theme's, also where the theme renders a partial once per
language or per article instead of once per page."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import MakeSite, build_site

SEEDS = {
    "seeds/a.txt": "Roma – Un testo.\n",
    "seeds/b.txt": "Parigi – Un altro testo.\n",
    "newsgen.yaml": "per_page: 1\nlanguage: it\n",
}


def pages(output: Path, *urls: str) -> list[str]:
    return [(output / url / "index.html").read_text(encoding="utf-8") for url in urls]


def test_a_teaser_that_reads_the_page_is_drawn_for_each_page(make_site: MakeSite) -> None:
    site = make_site(
        {**SEEDS, "templates/partials/teaser.html": "<p>{{ item.title }} @ {{ page.url }}</p>\n"}
    )
    config, result = build_site(site)
    assert result.problems == ()
    index, place = pages(config.output_dir, "", "places/roma")
    assert "<p>Un testo @ /</p>" in index
    assert "<p>Un testo @ /places/roma/</p>" in place


def test_a_teaser_in_the_reader_language_is_drawn_in_it(make_site: MakeSite) -> None:
    site = make_site(
        {**SEEDS, "templates/partials/teaser.html": "<p>{{ lang }}: {{ t(lang, 'next') }}</p>\n"}
    )
    config, _ = build_site(site)
    assert "<p>it: Successivo</p>\n</div>" in pages(config.output_dir, "")[0]


def test_a_header_that_reads_the_path_and_a_footer_with_a_block(make_site: MakeSite) -> None:
    site = make_site(
        {
            **SEEDS,
            "templates/partials/header.html": "<header>{{ path }}</header>\n",
            "templates/partials/footer.html": (
                "<footer>{{ site.title }}{% block extra %}, {{ t(lang, 'home') }}{% endblock %}"
                "</footer>\n"
            ),
        }
    )
    config, _ = build_site(site)
    index, places = pages(config.output_dir, "", "places")
    assert "</a>\n<header>index.html</header>\n<main" in index
    assert "<header>places/index.html</header>" in places
    assert "</main>\n<footer>News archive, Home</footer>\n</body>" in places


def test_a_page_that_sets_a_global_shows_its_own_value_in_the_partials(
    make_site: MakeSite,
) -> None:
    site = make_site(
        {
            **SEEDS,
            "templates/index.html": (
                '{% extends "base.html" %}\n'
                '{% set site = {"title": "Altro titolo", "language": "it", "search": True} %}\n'
                "{% block main %}{% endblock %}\n"
            ),
        }
    )
    config, _ = build_site(site)
    index, places = pages(config.output_dir, "", "places")
    assert '<a href="/">Altro titolo</a>' in index
    assert '<a href="/">News archive</a>' in places
