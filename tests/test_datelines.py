"""Datelines in every shape issue 16 names, in it/en/fr/de/es: made-up cases, one a shape and
a language. A date is read only where the shape leaves no doubt; the text stays as written."""

from __future__ import annotations

import datetime as dt

import pytest

from newsgen.enrich import enrich
from newsgen.load import find_dateline, parse_seed
from newsgen.records import Article, Draft


def seed(text: str) -> Draft:
    draft, problems = parse_seed("seeds/a.txt", text.encode())
    assert problems == [] and draft is not None
    return draft


def article(text: str, lang: str) -> Article:
    return enrich(seed(text), default_lang=lang, timezone="UTC").article


@pytest.mark.parametrize(
    ("text", "place", "date", "rest"),
    [
        # A place, then a date.
        ("Lyon – 3 mars 2014. - Le conseil municipal", "Lyon", "3 mars 2014", "Le conseil"),
        ("MILANO – 12 aprile 2016 – Il sindaco", "MILANO", "12 aprile 2016", "Il sindaco"),
        ("MILANO, 12 aprile 2016. – Il sindaco", "MILANO", "12 aprile 2016", "Il sindaco"),
        ("Denver – March 4, 2015. - The council", "Denver", "March 4, 2015", "The council"),
        ("Graz – 5. Mai 2019 – Die Landesregierung", "Graz", "5. Mai 2019", "Die Landes"),
        ("Sevilla – 7 de junio de 2018. - El alcalde", "Sevilla", "7 de junio de 2018", "El"),
        # Closed by a full stop.
        ("Torino, 4 maggio 2011. Il sindaco ha", "Torino", "4 maggio 2011", "Il sindaco ha"),
        ("Boston, June 2, 2017. The mayor said", "Boston", "June 2, 2017", "The mayor said"),
        ("Nantes, 9 juin 2010. Le maire a", "Nantes", "9 juin 2010", "Le maire a"),
        ("Linz, 9. Juni 2010. Der Bürgermeister", "Linz", "9. Juni 2010", "Der Bürgermeister"),
        ("Bilbao, 9 de junio de 2010. El alcalde", "Bilbao", "9 de junio de 2010", "El alcalde"),
        # A date, then a place.
        ("14 août 2013, Portugal. - Le gouvernement", "Portugal", "14 août 2013", "Le gouv"),
        ("14 agosto 2013, Portogallo. - Il governo", "Portogallo", "14 agosto 2013", "Il gov"),
        ("August 14, 2013, Portugal. - The government", "Portugal", "August 14, 2013", "The"),
        ("14. August 2013, Portugal. Die Regierung", "Portugal", "14. August 2013", "Die"),
        ("14 de agosto de 2013, Portugal - El gobierno", "Portugal", "14 de agosto de 2013", "El"),
    ],
)
def test_a_dateline_in_each_shape(text: str, place: str, date: str, rest: str) -> None:
    found_place, found_date, end = find_dateline(text)
    assert (found_place, found_date) == (place, date)
    assert text[end:].startswith(rest)


@pytest.mark.parametrize(
    "text",
    [
        "Lyon – 3 mars 2014 a été une date importante pour la ville.",
        "Il 4 maggio 2011. Il sindaco ha parlato.",
        "Torino, città del 2011. Il sindaco ha parlato.",
        "Roma, 4 maggio. Il sindaco ha parlato.",
        "14 août 2013, le gouvernement a parlé. - Ensuite",
    ],
)
def test_no_date_where_the_shape_is_not_sure(text: str) -> None:
    assert find_dateline(text)[1] is None


@pytest.mark.parametrize(
    ("text", "lang", "teaser", "place", "lede"),
    [
        (
            "Neue Regeln für Pendler ab Juli. Graz – Die Landesregierung hat beschlossen.",
            "de",
            "Neue Regeln für Pendler ab Juli",
            "Graz",
            "Die Landesregierung hat beschlossen.",
        ),
        (
            "Nuove regole per i pendolari da luglio. Torino – La giunta ha deciso ieri.",
            "it",
            "Nuove regole per i pendolari da luglio",
            "Torino",
            "La giunta ha deciso ieri.",
        ),
        (
            "New rules for commuters from July. LEEDS – The council decided on Monday.",
            "en",
            "New rules for commuters from July",
            "LEEDS",
            "The council decided on Monday.",
        ),
        (
            "De nouvelles règles pour les navetteurs. Lille – Le conseil a voté hier.",
            "fr",
            "De nouvelles règles pour les navetteurs",
            "Lille",
            "Le conseil a voté hier.",
        ),
        (
            "Nuevas reglas para los viajeros en julio. Cádiz – El gobierno lo aprobó ayer.",
            "es",
            "Nuevas reglas para los viajeros en julio",
            "Cádiz",
            "El gobierno lo aprobó ayer.",
        ),
    ],
)
def test_a_teaser_sentence_before_the_dateline_is_the_headline_and_stays_in_the_body(
    text: str, lang: str, teaser: str, place: str, lede: str
) -> None:
    draft = seed(f"{text}\nSecondo paragrafo.\n")
    assert draft.blocks == (text, "Secondo paragrafo.")
    assert draft.dateline == place
    found = article(f"{text}\nSecondo paragrafo.\n", lang)
    assert (found.title, found.summary) == (teaser, lede)


def test_a_dated_teaser_gives_its_date() -> None:
    text = "Neue Regeln für Pendler. Graz, 3. Mai 2019 – Die Landesregierung hat beschlossen.\n"
    assert (seed(text).dateline, article(text, "de").date) == ("Graz", dt.date(2019, 5, 3))


@pytest.mark.parametrize(
    "text",
    [
        "Er sagte es gestern. Merkel – die Kanzlerin – widersprach.",
        "Il governo cade. Roma – ha detto il sindaco – non cambia.",
        "Er traf gestern Dr. Graz – Die Stadt ist schön.",
        "Zu kurz. Graz – Die Stadt ist schön.",
    ],
)
def test_no_teaser_dateline_where_the_text_goes_on(text: str) -> None:
    assert seed(f"{text}\n").dateline is None


@pytest.mark.parametrize(
    ("text", "lang", "place", "date"),
    [
        (
            "Les rats sont malades.\n\n21 septembre 2012, France. - Selon l'étude, oui.\n\nFin.\n",
            "fr",
            "France",
            dt.date(2012, 9, 21),
        ),
        (
            "I ratti sono malati.\n\nMilano, 21 settembre 2012. Secondo lo studio, sì.\n\nFine.\n",
            "it",
            "Milano",
            dt.date(2012, 9, 21),
        ),
        (
            "Rats are ill.\n\nSeptember 21, 2012. - London - A study says so.\n\nEnd.\n",
            "en",
            "London",
            dt.date(2012, 9, 21),
        ),
        (
            "Ratten sind krank.\n\nBonn, 21. September 2012 – Eine Studie sagt es.\n\nEnde.\n",
            "de",
            "Bonn",
            dt.date(2012, 9, 21),
        ),
        (
            "Las ratas enferman.\n\nLeón, 21 de septiembre de 2012. El estudio lo dice.\n\nFin.\n",
            "es",
            "León",
            dt.date(2012, 9, 21),
        ),
    ],
)
def test_a_dated_dateline_after_a_one_sentence_paragraph(
    text: str, lang: str, place: str, date: dt.date
) -> None:
    found = article(text, lang)
    assert (found.dateline, found.date) == (place, date)
    assert found.title == text.split(".", 1)[0]
    assert len(seed(text).blocks) == 3


def test_an_undated_place_after_a_sentence_paragraph_is_not_a_dateline() -> None:
    assert seed("Il testo comincia qui.\n\nRoma – Il secondo paragrafo.\n").dateline is None
