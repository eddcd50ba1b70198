"""related: which articles of the archive an article page links as related."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from newsgen.records import Article
from newsgen.related import SHOWN, names, related_articles, terms
from tests.conftest import MakeSite, build_site
from tests.test_plan import article
from tests.util import clean_build, snapshot

FILLER = [f"Unrelated story number {n} about gardening" for n in range(30)]


def story(n: int, title: str, summary: str = "", lang: str = "en", **more: object) -> Article:
    return replace(article(n), title=title, summary=summary, lang=lang, **more)  # type: ignore[arg-type]


def corpus(*stories: Article) -> list[Article]:
    """`stories` among thirty others that share nothing with them but common words."""
    others = [story(100 + n, text, "", "en") for n, text in enumerate(FILLER)]
    return [*stories, *others]


def related_slugs(live: list[Article], n: int) -> list[str]:
    return [a.slug for a in related_articles(live)[n]]


def test_names_are_capitalised_words_inside_a_sentence_or_after_an_elision() -> None:
    found = names(
        story(1, "Yesterday Volodymyr Zelensky met l'ONU", "«Vergogna», said the President.")
    )
    assert found == {"volodymyr", "zelensky", "president"}
    assert (
        names(story(2, "Eyjafjallajökull erupts", "Eyjafjallajökull erupts. Ash falls.")) == set()
    )
    assert names(story(3, "La cenere dell'Eyjafjallajökull")) == {"eyjafjallajökull"}


def test_two_shared_terms_relate_only_when_one_is_a_name() -> None:
    live = corpus(
        story(1, "Glaciers retreat quickly", "Scientists measured glaciers retreating quickly."),
        story(2, "Why glaciers retreat quickly", "A report on glaciers."),
    )
    assert related_slugs(live, 0) == []
    live = corpus(
        story(1, "Glaciers of Svalbard retreat", "Scientists measured glaciers."),
        story(2, "Svalbard glaciers in retreat", "A report on glaciers."),
    )
    assert related_slugs(live, 0) == ["a2"]


def test_two_shared_rare_names_relate_two_articles() -> None:
    live = corpus(
        story(1, "Volcano Eyjafjallajökull erupts", "Flights over Reykjavik are cancelled."),
        story(2, "Ash from Eyjafjallajökull grounds planes", "Reykjavik airport stays shut."),
        story(3, "Parliament votes on budget", "The vote in Reykjavik was close."),
    )
    assert related_slugs(live, 0) == ["a2"]
    assert related_slugs(live, 1) == ["a1"]
    # One shared name (Reykjavik) is as often a coincidence: not related.
    assert related_slugs(live, 2) == []


def test_same_language_comes_first_then_most_shared() -> None:
    live = corpus(
        story(1, "Tokamak fusion record at Culham", "Plasma held for seconds."),
        story(2, "Record de fusion au tokamak de Culham", "Plasma maintenu.", lang="fr"),
        story(3, "Culham tokamak", "Engineers explain plasma."),
        story(4, "Tokamak plasma at Culham breaks record", "Fusion plasma record."),
    )
    assert related_slugs(live, 0) == ["a4", "a3", "a2"]


def test_place_and_tags_count_as_shared_terms() -> None:
    live = corpus(
        story(1, "Floods close schools", dateline="Valencia", tags=("weather",)),
        story(2, "Storm damages harbour", dateline="Valencia", tags=("weather",)),
    )
    assert related_slugs(live, 0) == ["a2"]


def test_days_and_months_relate_nothing() -> None:
    assert terms(story(1, "On Saturday in March, Samstag im März")) == {"samstag"} - {"samstag"}
    live = corpus(
        story(1, "On Saturday in September", "Wednesday and Thursday."),
        story(2, "Saturday in September again", "Wednesday, Thursday."),
    )
    assert related_slugs(live, 0) == []


def test_at_most_five_are_shown_nearest_first_among_equals() -> None:
    same = [story(n, f"Quasar {n} seen", "Astronomers saw it near Andromeda.") for n in range(9)]
    found = related_slugs(corpus(*same), 4)
    assert len(found) == SHOWN
    assert found == ["a3", "a5", "a2", "a6", "a1"]


# --- end to end: related links in built pages, kept exact by incremental builds -------------


def related_site() -> dict[str, str]:
    """Three articles about one eruption among twelve about other things."""
    files = {
        "newsgen.yaml": "title: Vulcani\nlanguage: it\n",
        "seeds/001_0000000000000001.txt": (
            "Reykjavik – L'Eyjafjallajökull erutta e la cenere blocca i voli.\nSecondo paragrafo.\n"
        ),
        "seeds/002_0000000000000002.txt": (
            "Reykjavik – Chiusi gli aeroporti islandesi. La cenere dell'Eyjafjallajökull "
            "blocca i voli.\nAltro testo.\n"
        ),
        "seeds/003_0000000000000003.txt": (
            "Londra – I voli riprendono dopo la cenere dell'Eyjafjallajökull.\nTerzo testo.\n"
        ),
    }
    topics = ["mercato", "calcio", "teatro", "musica", "scuola", "treni", "porto", "museo"]
    for n, topic in enumerate(topics * 2, start=10):
        files[f"seeds/{n:03d}_{n:016x}.txt"] = f"Una notizia sul {topic} numero {n}.\nTesto.\n"
    return files


def related_links(output: Path, slug: str) -> list[str]:
    page = (output / "articles" / slug / "index.html").read_text(encoding="utf-8")
    if 'class="related"' not in page:
        return []
    section = page.split('class="related"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'href="/articles/([^/"]+)/"', section)


def test_related_articles_are_linked_and_stay_exact_through_edits(
    make_site: MakeSite, tmp_path: Path
) -> None:
    site = make_site(related_site())
    config, _ = build_site(site)
    slugs = {p.name for p in (config.output_dir / "articles").iterdir()}
    first = next(s for s in slugs if s.startswith("l-eyjafjallajokull-erutta"))
    shown = related_links(config.output_dir, first)
    assert sorted(shown) == [
        "chiusi-gli-aeroporti-islandesi",
        "i-voli-riprendono-dopo-la-cenere-dell-eyjafjallajokull",
    ]
    # An edit below the lede: a delta rebuild; the pages that list the article stay exact.
    seed = site / "seeds" / "002_0000000000000002.txt"
    seed.write_text(seed.read_text(encoding="utf-8") + "Un paragrafo aggiunto.\n", "utf-8")
    build_site(site)
    assert snapshot(config.output_dir) == clean_build(site, tmp_path / "one")
    # An edit of the lede's second sentence (the headline stays) that unrelates it: every
    # page that listed it changes.
    seed.write_text(
        "Reykjavik – Chiusi gli aeroporti islandesi. Il porto riapre.\nAltro testo.\n", "utf-8"
    )
    build_site(site)
    assert snapshot(config.output_dir) == clean_build(site, tmp_path / "two")
    assert related_links(config.output_dir, first) == [
        "i-voli-riprendono-dopo-la-cenere-dell-eyjafjallajokull"
    ]


def test_the_same_articles_are_related_whatever_the_hash_seed() -> None:
    """An article's terms are a set: which of its rarest it looks through must not depend
    on the order a set iterates in, which the hash seed changes."""
    script = (
        "from tests.test_related import tie_corpus\n"
        "from newsgen.related import related_articles\n"
        "print([[a.slug for a in found] for found in related_articles(tie_corpus())])\n"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(seen) == 1
    assert seen.pop().startswith("[['a2', 'a3'], ")


def tie_corpus() -> list[Article]:
    """Twenty terms of one rarity in article 0, more than it looks through, each shared with
    two of the others."""
    words = [f"Alpha{chr(97 + n)}" for n in range(20)]
    first = story(0, "About " + " ".join(words))
    others = [story(n + 2, f"About {words[n]} {words[(n + 7) % 20]} gamma{n}") for n in range(20)]
    return corpus(first, story(1, f"About {words[3]} {words[11]} delta"), *others)
