"""Stage 2, enrich: headline, summary, date, language, slug; duplicates and collisions."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from newsgen.enrich import (
    SUMMARY_LENGTH,
    TITLE_LENGTH,
    Enriched,
    _opening,
    _sample_text,
    cut,
    detect_language,
    detect_languages,
    enrich,
    finalize,
    headline,
    language_sample,
    parse_date,
    summary,
)
from newsgen.load import parse_curated, parse_seed
from newsgen.records import Article, Draft, FrontMatter
from newsgen.slugs import make_slug
from tests.conftest import MakeSite, build_site

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_4c3b1bedbc3a3e95.txt"


def draft_of(text: str, path: str = "seeds/a.txt") -> Draft:
    draft, problems = parse_seed(path, text.encode())
    assert problems == []
    assert draft is not None
    return draft


def enriched(text: str, path: str = "seeds/a.txt", **meta: object) -> Enriched:
    draft = draft_of(text, path)
    if meta:
        draft = replace(draft, meta=FrontMatter(**meta))  # type: ignore[arg-type]
    return enrich(draft, default_lang="en", timezone="Europe/Rome")


def article(text: str, path: str = "seeds/a.txt", **meta: object) -> Article:
    return enriched(text, path, **meta).article


# --- the real seed ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_article() -> Article:
    draft, _ = parse_seed("seeds/000_4c3b1bedbc3a3e95.txt", SEED.read_bytes())
    assert draft is not None
    return enrich(draft, default_lang="en", timezone="UTC").article


def test_seed_headline_is_the_lede_without_its_dateline(seed_article: Article) -> None:
    assert seed_article.title == (
        "Il governo federale del Belgio ha annunciato che espellerà 21 diplomatici russi "
        "dall’Ambasciata russa a Bruxelles e dal Consolato Generale ad Anversa…"
    )


def test_seed_fields(seed_article: Article) -> None:
    assert seed_article.lang == "it"
    assert seed_article.dateline == "Bruxelles"
    assert seed_article.date is None
    assert seed_article.slug == (
        "il-governo-federale-del-belgio-ha-annunciato-che-espellera-21-diplomatici-russi"
    )
    assert seed_article.summary.startswith("Il governo federale del Belgio ha annunciato")
    assert seed_article.image == (
        "https://www.eunews.it/wp-content/uploads/2025/12/"
        "80e7e8f3-c691-4833-912d-fc86a6077194-350x250.jpg"
    )


# --- headline ---------------------------------------------------------------------------------


def test_headline_is_the_first_sentence_without_its_full_stop() -> None:
    assert headline("Il Dr. Rossi ha parlato. Poi basta.") == "Il Dr. Rossi ha parlato"


def test_headline_keeps_a_question_mark() -> None:
    assert headline("Chi ha vinto? Nessuno.") == "Chi ha vinto?"


def test_headline_is_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    lede = "parola " * 30 + "fine."
    title = headline(lede)
    assert title == ("parola " * 21).strip() + "…"
    assert len(title) <= TITLE_LENGTH + 1


def test_headline_without_a_title_line_drops_the_dateline() -> None:
    assert article("ROMA — Il governo cade. Altro.\n").title == "Il governo cade"
    assert article("3 juillet 2012. - Québec - Le forum s'ouvre. Suite.\n").title == (
        "Le forum s'ouvre"
    )


def test_title_line_wins_over_the_lede() -> None:
    assert article("Un titolo\n\nRoma – Il governo cade.\n").title == "Un titolo"


def test_front_matter_title_wins() -> None:
    assert article("Un titolo\n\nIl testo.\n", title="Curato").title == "Curato"


def test_markdown_in_a_title_line_is_shown_as_text() -> None:
    assert article("Il *nuovo* governo\n\nIl testo.\n").title == "Il nuovo governo"


# --- summary ----------------------------------------------------------------------------------


def test_summary_is_whole_sentences_up_to_about_200_characters() -> None:
    lede = "Prima frase breve. Seconda frase breve. " + "Terza " * 40 + "fine."
    assert summary(lede) == "Prima frase breve. Seconda frase breve."


def test_summary_of_one_long_sentence_is_cut_with_an_ellipsis() -> None:
    text = summary("parola " * 60 + "fine.")
    assert text.endswith("parola…")
    assert len(text) <= 201


def test_summary_is_plain_text_without_the_dateline() -> None:
    assert article("Roma – Il *governo* [cade](https://x.org). Altro.\n").summary == (
        "Il governo cade. Altro."
    )


def test_front_matter_summary_wins() -> None:
    assert article("Il testo.\n", summary="Un riassunto").summary == "Un riassunto"


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "date"),
    [
        ("29 marzo 2022", "it", dt.date(2022, 3, 29)),
        ("1º agosto 2015", "it", dt.date(2015, 8, 1)),
        ("3 juillet 2012", "fr", dt.date(2012, 7, 3)),
        ("1er novembre 2012", "fr", dt.date(2012, 11, 1)),
        ("17 août 2012", "fr", dt.date(2012, 8, 17)),
        ("17 aout 2012", "fr", dt.date(2012, 8, 17)),
        ("April 5, 2020", "en", dt.date(2020, 4, 5)),
        ("5 April 2020", "en", dt.date(2020, 4, 5)),
        ("Sept. 5, 2020", "en", dt.date(2020, 9, 5)),
        ("29. März 2022", "de", dt.date(2022, 3, 29)),
        ("3. Okt. 2021", "de", dt.date(2021, 10, 3)),
        ("29 de marzo de 2022", "es", dt.date(2022, 3, 29)),
        ("2022-03-29", "it", dt.date(2022, 3, 29)),
    ],
)
def test_dates_in_the_article_language(text: str, lang: str, date: dt.date) -> None:
    assert parse_date(text, lang) == date


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("31 febbraio 2022", "it"),
        ("3 juillet 2012", "it"),
        ("2022-13-01", "en"),
        ("Ma 5, 2020", "en"),
    ],
)
def test_not_a_date(text: str, lang: str) -> None:
    assert parse_date(text, lang) is None


def test_dateline_date_dates_the_article() -> None:
    text = "Roma, 29 marzo 2022 – Il governo italiano ha approvato oggi il nuovo decreto.\n"
    assert article(text).date == dt.date(2022, 3, 29)


def test_impossible_date_leaves_the_article_undated_with_a_warning() -> None:
    result = enriched(
        "Titolo\n\nRoma, 31 febbraio 2022 – Il governo italiano ha approvato oggi il decreto.\n"
    )
    assert result.article.date is None
    assert [str(p) for p in result.problems] == [
        "seeds/a.txt:3: '31 febbraio 2022' looks like a date but is not one in 'it'; "
        "the article is undated; add 'date:' in front matter"
    ]


def test_undated_without_a_date_in_the_text() -> None:
    result = enriched("Il governo italiano ha approvato oggi il nuovo decreto sulle tasse.\n")
    assert (result.article.date, result.article.published, result.problems) == (None, None, ())


def test_front_matter_date_wins() -> None:
    text = "Roma, 29 marzo 2022 – Il governo italiano ha approvato oggi il nuovo decreto.\n"
    assert article(text, date=dt.date(2021, 1, 2)).date == dt.date(2021, 1, 2)


def test_front_matter_datetime_is_published_in_the_site_time_zone() -> None:
    when = dt.datetime(2022, 3, 29, 23, 30, tzinfo=dt.UTC)
    result = article("Il testo.\n", date=when)
    assert result.published == when
    assert result.date == dt.date(2022, 3, 30)  # already the 30th in Europe/Rome


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The government announced on Tuesday that it will expel twenty-one diplomats.", "en"),
        ("Le gouvernement a annoncé mardi qu'il expulsera vingt et un diplomates russes.", "fr"),
        (
            "Die Bundesregierung hat am Dienstag angekündigt, russische Diplomaten auszuweisen.",
            "de",
        ),
        ("El gobierno anunció el martes que expulsará a veintiún diplomáticos rusos.", "es"),
        ("Il governo ha annunciato martedì che espellerà ventuno diplomatici russi.", "it"),
    ],
)
def test_language_is_detected(text: str, lang: str) -> None:
    assert detect_language(text, "xx") == lang


def test_short_text_gets_the_site_language() -> None:
    assert detect_language("Ciao a tutti.", "de") == "de"


def test_front_matter_lang_wins() -> None:
    assert article("Il governo ha annunciato martedì che espellerà.\n", lang="fr").lang == "fr"


# --- slugs ------------------------------------------------------------------------------------


def test_slug_is_cut_at_a_word_boundary_within_80_characters() -> None:
    slug = make_slug("Parola " * 20)
    assert slug == "-".join(["parola"] * 11)
    assert len(slug) == 76


def test_slug_of_one_long_word_is_cut_at_80() -> None:
    assert make_slug("x" * 100) == "x" * 80


WORDS = " ".join(["abcdefghi"] * 8)  # 79 characters as a slug


def test_a_slug_of_exactly_80_characters_is_kept_whole() -> None:
    assert make_slug(WORDS + "x") == (WORDS + "x").replace(" ", "-")


def test_a_word_ending_at_81_characters_is_dropped() -> None:
    assert make_slug(WORDS + "xx more") == "-".join(["abcdefghi"] * 7)


def test_a_long_word_after_a_short_one_leaves_the_short_one() -> None:
    assert make_slug("a " + "b" * 100) == "a"


def test_slug_transliterates_and_separates_apostrophes() -> None:
    assert make_slug("Città di Castello: l’“evento” dell’anno") == (
        "citta-di-castello-l-evento-dell-anno"
    )


def test_title_without_letters_gets_the_id_as_slug_with_a_warning() -> None:
    result = enriched("…\n\n¿¡ — ¡?\n", path="seeds/017_0123456789abcdef.txt")
    assert result.article.slug == "0123456789abcdef"
    assert [str(p) for p in result.problems] == [
        "seeds/017_0123456789abcdef.txt:1: the title gives no usable URL; published as "
        "/articles/0123456789abcdef/; set 'slug:' in front matter to choose one"
    ]


def test_colliding_slugs_get_a_number_with_a_warning() -> None:
    first = article("Stesso titolo\n\nPrimo testo.\n", "seeds/a.txt")
    second = article("Stesso titolo\n\nSecondo testo.\n", "seeds/b.txt")
    third = article("Stesso titolo\n\nTerzo testo.\n", "seeds/c.txt")
    kept, problems = finalize([first, second, third])
    assert [a.slug for a in kept] == ["stesso-titolo", "stesso-titolo-2", "stesso-titolo-3"]
    assert [str(p) for p in problems] == [
        "seeds/b.txt:1: URL /articles/stesso-titolo/ is already used by seeds/a.txt; "
        "published as /articles/stesso-titolo-2/; set 'slug:' in front matter to choose",
        "seeds/c.txt:1: URL /articles/stesso-titolo/ is already used by seeds/a.txt; "
        "published as /articles/stesso-titolo-3/; set 'slug:' in front matter to choose",
    ]


def test_a_slug_from_front_matter_wins_the_collision() -> None:
    derived = article("Stesso titolo\n\nPrimo testo.\n", "seeds/a.txt")
    curated = article("Altro\n\nSecondo testo.\n", "articles/b.md", slug="stesso-titolo")
    kept, problems = finalize([derived, curated])
    assert [(a.path, a.slug) for a in kept] == [
        ("seeds/a.txt", "stesso-titolo-2"),
        ("articles/b.md", "stesso-titolo"),
    ]
    assert [str(p) for p in problems] == [
        "seeds/a.txt:1: URL /articles/stesso-titolo/ is already used by articles/b.md; "
        "published as /articles/stesso-titolo-2/; set 'slug:' in front matter to choose"
    ]


def test_collisions_resolve_the_same_whatever_the_input_order() -> None:
    a = article("Stesso titolo\n\nPrimo testo.\n", "seeds/a.txt")
    b = article("Stesso titolo\n\nSecondo testo.\n", "seeds/b.txt")
    assert finalize([a, b])[0][1].slug == "stesso-titolo-2"
    assert finalize([b, a])[0][1].slug == "stesso-titolo-2"
    assert finalize([b, a])[0][1].path == "seeds/a.txt"


def test_a_numbered_slug_never_takes_an_existing_one() -> None:
    a = article("Titolo\n\nUno.\n", "seeds/a.txt")
    b = article("Titolo 2\n\nDue.\n", "seeds/b.txt")
    c = article("Titolo\n\nTre.\n", "seeds/c.txt")
    assert [x.slug for x in finalize([a, b, c])[0]] == ["titolo", "titolo-2", "titolo-3"]


# --- identical texts --------------------------------------------------------------------------


def test_identical_texts_collapse_into_one_with_a_warning() -> None:
    text = "Roma – Lo stesso testo.\nAncora.\n"
    kept, problems = finalize([article(text, "seeds/a.txt"), article(text, "seeds/b.txt")])
    assert [a.path for a in kept] == ["seeds/a.txt"]
    assert [str(p) for p in problems] == [
        "seeds/b.txt:1: same text as seeds/a.txt; skipped; delete one of the two files"
    ]


def test_identical_seeds_still_collapse_whatever_their_names() -> None:
    text = "Roma – Lo stesso testo.\nAncora.\n"
    one = article(text, "seeds/001_0123456789abcdef.txt")
    two = article(text, "seeds/002_fedcba9876543210.txt")
    kept, problems = finalize([one, two])
    assert [a.path for a in kept] == ["seeds/001_0123456789abcdef.txt"]
    assert [str(p) for p in problems] == [
        "seeds/002_fedcba9876543210.txt:1: same text as seeds/001_0123456789abcdef.txt; "
        "skipped; delete one of the two files"
    ]


def test_curated_twins_are_not_duplicates() -> None:
    """One body under two headlines: two articles, each with its own id."""
    drafts = [
        parse_curated(path, f"---\ntitle: {title}\n---\nLo stesso testo.\n".encode())[0]
        for path, title in [("articles/a.md", "Un titolo"), ("articles/b.md", "Un altro")]
    ]
    twins = [enrich(d, default_lang="it", timezone="UTC").article for d in drafts if d]
    kept, problems = finalize(twins)
    assert (len({a.id for a in kept}), problems) == (2, [])


def test_a_second_article_with_an_id_already_taken_is_skipped() -> None:
    one = article("Uno.\n", "seeds/001_0123456789abcdef.txt")
    two = article("Due.\n", "seeds/002_0123456789abcdef.txt")
    kept, problems = finalize([one, two])
    assert [a.path for a in kept] == ["seeds/001_0123456789abcdef.txt"]
    assert [(str(p), p.level) for p in problems] == [
        (
            "seeds/002_0123456789abcdef.txt:1: its id 0123456789abcdef is already the id of "
            "seeds/001_0123456789abcdef.txt; skipped; rename one of the two files",
            "error",
        )
    ]


def test_an_id_from_front_matter_yields_to_an_id_from_a_file() -> None:
    """Whatever the order: `id:` must not take a published seed's identity."""
    draft, _ = parse_curated("articles/a.md", b"---\nid: 0123456789abcdef\n---\nUno.\n")
    assert draft is not None
    stated = enrich(draft, default_lang="it", timezone="UTC").article
    taken = article("Due.\n", "seeds/001_0123456789abcdef.txt")
    for order in ([stated, taken], [taken, stated]):
        kept, problems = finalize(order)
        assert [a.path for a in kept] == ["seeds/001_0123456789abcdef.txt"]
        assert [str(p) for p in problems] == [
            "articles/a.md:1: 'id: 0123456789abcdef' is already the id of "
            "seeds/001_0123456789abcdef.txt; skipped; choose another id"
        ]


def test_curated_twins_keep_their_own_feed_ids_and_urls(make_site: MakeSite) -> None:
    """Once they shared an id: the feed repeated it, and deleting one redirected its URL to
    the other."""
    body = "Lo stesso testo, sotto due titoli.\n"
    site = make_site(
        {
            "articles/one.md": f"---\ntitle: One headline\ndate: 2022-03-01\n---\n{body}",
            "articles/two.md": f"---\ntitle: Another headline\ndate: 2022-03-02\n---\n{body}",
        }
    )
    build_site(site)
    ids = etree.parse(site / "build" / "feed.xml").xpath(
        "//*[local-name()='entry']/*[local-name()='id']/text()"
    )
    assert len(ids) == len(set(ids)) == 2
    (site / "articles" / "one.md").unlink()
    _, result = build_site(site)
    assert result.problems == ()
    assert not (site / "build" / "articles" / "one-headline").exists()
    assert (site / "build" / "articles" / "another-headline" / "index.html").is_file()


def test_identical_texts_with_different_line_endings_collapse() -> None:
    lf = article("Lo stesso testo.\nAncora.\n", "seeds/a.txt")
    draft, _ = parse_seed("seeds/b.txt", b"Lo stesso testo.\r\nAncora.\r\n")
    assert draft is not None
    crlf = enrich(draft, default_lang="en", timezone="UTC").article
    assert [a.path for a in finalize([lf, crlf])[0]] == ["seeds/a.txt"]


# --- curated fields ---------------------------------------------------------------------------


def test_curated_source_overrides_the_seed_fields() -> None:
    from newsgen.load import merge, pair_curated

    seed = draft_of("Roma – Il governo cade. Altro.\nSecondo.\n", "seeds/s.txt")
    curated, _ = parse_curated(
        "articles/c.md",
        b"---\nsource: seeds/s.txt\ntitle: Titolo curato\nlang: it\ntags: [politica]\n"
        b"date: 2022-03-29\nsummary: Riassunto.\nslug: curato\n---\n",
    )
    assert curated is not None
    pairs, _, _ = pair_curated(["seeds/s.txt"], [curated])
    result = enrich(merge(seed, pairs["seeds/s.txt"]), default_lang="en", timezone="UTC")
    a = result.article
    assert (a.title, a.slug, a.lang, a.tags, a.summary, a.date, a.dateline) == (
        "Titolo curato",
        "curato",
        "it",
        ("politica",),
        "Riassunto.",
        dt.date(2022, 3, 29),
        "Roma",
    )
    assert a.slug_given
    assert result.body_html.startswith("<p>Roma – Il governo cade. Altro.</p>")


# --- the seed article's page (issue 2's checks) and its golden HTML ---------------------------


@pytest.fixture(scope="module")
def seed_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from tests.golden import seed_site as build_seed_site

    return build_seed_site(tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="module")
def seed_page(seed_site: dict[str, str]) -> str:
    return seed_site["seed-article.html"]


@pytest.mark.parametrize(
    "name", ["seed-article.html", "front-page.html", "place-page.html", "feed.xml", "sitemap.xml"]
)
def test_seed_site_matches_its_golden_files(seed_site: dict[str, str], name: str) -> None:
    from tests.golden import differences

    diff = differences(name, seed_site[name])
    assert not diff, (
        f"{name} differs from its golden file; if the change is intended, review it with "
        "`.venv/bin/python -m tests.golden` and accept it with `--accept`\n" + diff
    )


def test_seed_page_headline_lang_and_paragraphs(seed_page: str) -> None:
    import lxml.html

    page = lxml.html.fromstring(seed_page)
    # The interface speaks the site's language (English here); the article, its own.
    assert page.get("lang") == "en"
    (story,) = page.xpath("//article[contains(@class, 'story')]")
    assert story.get("lang") == "it"
    (h1,) = page.xpath("//h1")
    assert h1.text_content().startswith("Il governo federale del Belgio ha annunciato")
    assert not h1.text_content().startswith("Bruxelles")
    paragraphs = [p.text_content() for p in page.xpath("//article//div[@class='body']/p")]
    lines = SEED.read_text(encoding="utf-8").split("\n")[:6]
    assert paragraphs == lines


def test_seed_page_related_images_with_credits_apart(seed_page: str) -> None:
    import lxml.html

    page = lxml.html.fromstring(seed_page)
    images = page.xpath("//section[@class='source-images']//img")
    assert [img.get("alt") for img in images] == [
        "Valdis Dombrovskis e Stephanie Lose, 12/12/25",
        "da sinistra: il ministro delle Finanze belga, Vincent van Peteghem, e il ministro "
        "delle Finanze greco, Kyriakos Pierrakakis. Sono i due candidati alla presidenza "
        "dell'eurogruppo",
    ]
    credits = page.xpath("//section[@class='source-images']//figcaption/*[@class='credit']")
    # The labels as the seed writes them, whatever the page's language.
    assert [c.text_content() for c in credits] == [
        "Credit: Council of the EU",
        "foto: Wikimedia Commons",
    ]
    assert len(page.xpath("//img")) == 2


def test_same_body_under_another_title_is_not_a_duplicate() -> None:
    titled = article("Un titolo\n\nLo stesso testo.\n", "seeds/a.txt")
    untitled = article("Lo stesso testo.\n", "seeds/b.txt")
    kept, problems = finalize([titled, untitled])
    assert ([a.path for a in kept], problems) == (["seeds/a.txt", "seeds/b.txt"], [])


IMAGES = "![Una foto [foto: X]](https://e.org/a.jpg)\n"


def test_same_body_with_other_related_images_is_not_a_duplicate() -> None:
    """The related images live with the body (see stored_body): its key covers them."""
    plain = article("Lo stesso testo.\n", "seeds/a.txt")
    pictured = article(f"Lo stesso testo.\n\n{IMAGES}", "seeds/b.txt")
    assert pictured.related and plain.body_key != pictured.body_key
    kept, problems = finalize([plain, pictured])
    assert [a.path for a in kept] == ["seeds/a.txt", "seeds/b.txt"]
    assert not any("same text" in p.message for p in problems)
    again = article(f"Lo stesso testo.\n\n{IMAGES}", "seeds/c.txt")
    assert [a.path for a in finalize([pictured, again])[0]] == ["seeds/b.txt"]


def test_nesting_past_the_parser_limit_keeps_the_text_and_names_the_file(
    make_site: MakeSite,
) -> None:
    deep = "> " * 300 + "Parole in fondo alla citazione."
    curated = f"---\ntitle: Citazioni\nlang: it\n---\n\nPrimo paragrafo.\n\n{deep}\n"
    site = make_site({"articles/citazioni.md": curated})
    config, result = build_site(site)
    assert [str(p) for p in result.problems] == [
        "articles/citazioni.md: a block nested more than 20 levels deep (quotes or lists) "
        "became plain paragraphs; the text is all there; nest less to keep the structure"
    ]
    page = (config.output_dir / "articles" / "citazioni" / "index.html").read_text("utf-8")
    assert "<p>Parole in fondo alla citazione.</p>" in page


# --- every field at once ----------------------------------------------------------------------

ROMA_SEED = (
    "Roma, 29 marzo 2022 – Il consiglio comunale ha approvato il bilancio. La seduta è durata "
    "sei ore.\n![Il municipio [foto: Ansa]](https://x.org/m.jpg)\nIl sindaco ha parlato.\n"
)


def test_a_seed_is_enriched_whole() -> None:
    done = enrich(draft_of(ROMA_SEED), default_lang="en", timezone="Europe/Rome")
    assert done.article == Article(
        id=done.article.id,
        path="seeds/a.txt",
        order=0,
        title="Il consiglio comunale ha approvato il bilancio",
        slug="il-consiglio-comunale-ha-approvato-il-bilancio",
        lang="it",
        dateline="Roma",
        date=dt.date(2022, 3, 29),
        published=None,
        summary="Il consiglio comunale ha approvato il bilancio. La seduta è durata sei ore.",
        tags=(),
        related=(),
        image="https://x.org/m.jpg",
        body_key="11e0fa8ff7fe285acab1ca13",
    )
    assert done.problems == ()
    assert '<span class="credit">foto: Ansa</span>' in done.body_html
    assert done.body_html.startswith("<p>Roma, 29 marzo 2022 – Il consiglio comunale")
    assert len(done.sample) == 24


def test_a_remembered_language_is_used_by_its_sample() -> None:
    draft = draft_of(ROMA_SEED)
    sample = enrich(draft, default_lang="en", timezone="UTC").sample
    again = enrich(draft, default_lang="en", timezone="UTC", languages={sample: "de"})
    assert (again.article.lang, again.sample) == ("de", sample)
    assert enrich(draft, default_lang="en", timezone="UTC", languages={}).article.lang == "it"


def test_a_curated_article_states_every_field() -> None:
    text = (
        "---\ntitle: Il *titolo*\nslug: ../Su/Giù\nlang: it\nsummary: Sommario.\n"
        "date: 2022-03-29T23:30:00+00:00\ndateline: Milano\ntags: [a, b]\ndraft: true\n"
        "aliases: ['/old/']\nid: mio\n---\n\n" + "> " * 25 + "profondo\n"
    )
    draft, _ = parse_curated("articles/x.md", text.encode())
    assert draft is not None
    done = enrich(draft, default_lang="en", timezone="Europe/Rome")
    assert done.article == Article(
        id="mio",
        id_given=True,
        path="articles/x.md",
        order=0,
        title="Il titolo",
        slug="su-giu",
        slug_given=True,
        lang="it",
        dateline="Milano",
        date=dt.date(2022, 3, 30),  # in Rome, 23:30 UTC is the next day
        published=dt.datetime(2022, 3, 29, 23, 30, tzinfo=dt.UTC),
        summary="Sommario.",
        tags=("a", "b"),
        related=(),
        image=None,
        body_key="d8e7bbf16dfc6aae195a070f",
        draft=True,
        aliases=("/old/",),
    )
    assert [(str(p), p.level) for p in done.problems] == [
        (
            "articles/x.md: a block nested more than 20 levels deep (quotes or lists) became "
            "plain paragraphs; the text is all there; nest less to keep the structure",
            "warning",
        ),
        (
            "articles/x.md:1: 'slug: ../Su/Giù' is not a plain URL name; published as "
            "/articles/su-giu/; use lower-case letters, digits and dashes",
            "warning",
        ),
    ]
    assert done.sample == ""


def test_without_any_headline_the_title_is_the_file_name() -> None:
    deep = "> " * 25 + "uno\n\n" + "> " * 25 + "due\n"
    text = "---\nlang: it\n---\n\n![](https://x.org/a.jpg)\n\n" + deep
    draft, _ = parse_curated("articles/sub/solo.md", text.encode())
    assert draft is not None
    done = enrich(draft, default_lang="en", timezone="UTC")
    assert (done.article.title, done.article.slug, done.article.image) == (
        "solo.md",
        "solo-md",
        "https://x.org/a.jpg",
    )
    assert [str(p) for p in done.problems] == [
        "articles/sub/solo.md: 2 blocks nested more than 20 levels deep (quotes or lists) "
        "became plain paragraphs; the text is all there; nest less to keep the structure"
    ]


@pytest.mark.parametrize(
    ("text", "limit", "cut_text"),
    [
        ("abc", 3, "abc"),
        ("abcdef", 3, "abc…"),
        ("uno due tre", 7, "uno due…"),
        ("uno, due", 5, "uno…"),
    ],
)
def test_cut_at_a_word_within_the_limit(text: str, limit: int, cut_text: str) -> None:
    assert cut(text, limit) == cut_text


def test_the_opening_takes_sentences_until_one_passes_the_summary_length() -> None:
    """Lengths counted with the spaces between sentences: 101 + 1 + 98 is exactly 200."""
    a, b, c, d = "A" * 100 + ".", "B" * 97 + ".", "C" * 50 + ".", "D" * 10 + "."
    assert SUMMARY_LENGTH == 200
    assert _opening(f"{a} {b} {c} {d}") == [a, b, c]
    longer = "B" * 98 + "."
    assert _opening(f"{a} {longer} {c}") == [a, longer]


def test_languages_are_detected_for_drafts_without_one_remembered_first() -> None:
    roma = draft_of(ROMA_SEED)
    berlin = draft_of("Berlin – Der Bundestag hat heute den Haushalt beschlossen.\n", "seeds/b.txt")
    paris = replace(
        draft_of("Paris – Le conseil a voté le budget.\n", "seeds/c.txt"),
        meta=FrontMatter(lang="fr"),
    )
    key_roma, key_berlin = (language_sample(d, "en") for d in (roma, berlin))
    assert key_roma == hashlib.sha256(f"en\0{_sample_text(roma)}".encode()).hexdigest()[:24]
    assert detect_languages([roma, berlin, paris], "en", {key_roma: "es"}) == {
        key_roma: "es",
        key_berlin: "de",
    }
    assert detect_languages([roma, paris], "en", {}) == {key_roma: "it"}
