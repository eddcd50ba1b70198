"""Headlines from the lede (issue 16): a whole sentence when it fits, else a cut at a clause
boundary; never on a function word; quotes and brackets balanced; no sentence split at an
ordinal, an abbreviation, an initial or a decimal. Made-up cases in it/en/fr/de/es."""

from __future__ import annotations

import pytest

from newsgen.enrich import (
    FUNCTION_WORDS,
    TITLE_LENGTH,
    first_sentence_end,
    headline,
    summary,
)

NEXT = " Poi è arrivata la pioggia."


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("de", "Im 26. Spiel der Saison gewann Bayern mit 3:1"),
        ("de", "Am 3. Oktober feiert die Stadt Graz mit Dr. Huber"),
        ("de", "Laut Prof. Müller sind z.B. Pendler und Schüler betroffen"),
        ("de", "Die Inflation stieg um 3.5 Prozent bzw. mehr als erwartet"),
        ("it", "Secondo l'ing. Renzo Piano il ponte è sicuro"),
        ("it", "Il Sig. Rossi e il dott. Bianchi hanno visitato Roma"),
        ("it", "Il prezzo è salito del 2.5 per cento, ecc. Ma non basta"),
        ("en", "Dr. Smith met J. R. R. Tolkien's heirs in St. Louis"),
        ("en", "The U.S. economy grew 3.5 percent, Mr. Brown said"),
        ("fr", "M. Dupont a rencontré Mme Durand et Me Leroy hier"),
        ("fr", "Selon le Dr. Martin, l'indice a baissé de 1.5 point"),
        ("es", "El Sr. García y la Dra. López llegaron a las 10.30 horas"),
        ("es", "La Sra. Pérez firmó el acuerdo con el Ing. Ruiz"),
    ],
)
def test_no_split_at_ordinals_abbreviations_initials_or_decimals(lang: str, sentence: str) -> None:
    assert headline(f"{sentence}. {NEXT}", lang) == sentence


@pytest.mark.parametrize(
    ("lang", "text", "first"),
    [
        ("it", "La condizione del Papa Giovanni Paolo II. L'insufficienza è grave.", 41),
        ("en", "He was elected in 2011. The vote was close.", 23),
        ("de", "Der Verein wurde 1900 gegründet. Er ist alt.", 32),
        ("fr", "Il est arrivé à 19h. Les gens l'attendaient.", 20),
        ("es", "Ganó el partido 3-1. Después habló.", 20),
    ],
)
def test_a_sentence_still_ends_at_a_year_a_number_or_a_numeral(
    lang: str, text: str, first: int
) -> None:
    assert first_sentence_end(text, lang) == first


@pytest.mark.parametrize("lang", ["it", "en", "fr", "de", "es"])
def test_a_whole_sentence_up_to_the_limit_is_the_headline(lang: str) -> None:
    sentence = ("Parola lunga " * 11).strip()
    assert len(sentence) <= TITLE_LENGTH
    assert headline(f"{sentence}. Altro.", lang) == sentence


@pytest.mark.parametrize(
    ("lang", "sentence", "title"),
    [
        (
            "it",
            "Il consiglio comunale di Torino ha approvato ieri sera il nuovo piano dei trasporti "
            "pubblici della città, che prevede dieci nuove linee di autobus elettrici entro la "
            "fine del prossimo anno",
            "Il consiglio comunale di Torino ha approvato ieri sera il nuovo piano dei trasporti "
            "pubblici della città",
        ),
        (
            "en",
            "The city council of Leeds approved on Monday evening a new plan for the public "
            "transport of the city; it foresees ten new lines of electric buses by the end of "
            "next year and more",
            "The city council of Leeds approved on Monday evening a new plan for the public "
            "transport of the city",
        ),
        (
            "fr",
            "Le conseil municipal de Lyon a approuvé lundi soir le nouveau plan des transports "
            "publics de la ville – il prévoit dix nouvelles lignes de bus électriques avant la "
            "fin de l'année prochaine",
            "Le conseil municipal de Lyon a approuvé lundi soir le nouveau plan des transports "
            "publics de la ville",
        ),
        (
            "de",
            "Der Gemeinderat von Graz hat am Montagabend den neuen Plan für den öffentlichen "
            "Verkehr der Stadt beschlossen: zehn neue Linien mit Elektrobussen bis zum Ende des "
            "kommenden Jahres",
            "Der Gemeinderat von Graz hat am Montagabend den neuen Plan für den öffentlichen "
            "Verkehr der Stadt beschlossen",
        ),
        (
            "es",
            "El ayuntamiento de Sevilla aprobó el lunes por la noche el nuevo plan de transporte "
            "público de la ciudad, que prevé diez nuevas líneas de autobuses eléctricos antes del "
            "final del próximo año",
            "El ayuntamiento de Sevilla aprobó el lunes por la noche el nuevo plan de transporte "
            "público de la ciudad",
        ),
    ],
)
def test_a_long_sentence_is_cut_at_its_last_clause_boundary(
    lang: str, sentence: str, title: str
) -> None:
    assert len(sentence) > TITLE_LENGTH
    assert headline(f"{sentence}. Altro.", lang) == title


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("it", "il sindaco della città di Torino ha parlato con la stampa e con"),
        ("en", "the mayor of the city of Leeds spoke to the press and to the"),
        ("fr", "le maire de la ville de Lyon a parlé à la presse et aux gens de la"),
        ("de", "der Bürgermeister der Stadt Graz sprach mit der Presse und mit den"),
        ("es", "el alcalde de la ciudad de Sevilla habló con la prensa y con los"),
    ],
)
def test_a_word_cut_never_ends_on_a_function_word(lang: str, words: str) -> None:
    title = headline(" ".join([words] * 6) + ".", lang)
    assert title.endswith("…")
    last = title.removesuffix("…").rsplit(None, 1)[-1].lower()
    assert last not in FUNCTION_WORDS[lang]
    assert len(title) <= TITLE_LENGTH + 1


@pytest.mark.parametrize(
    ("lang", "lede", "title"),
    [
        (
            "it",
            "«Vergogna, è una vergogna. Non finisce qui», ha detto.",
            "Vergogna, è una vergogna",
        ),
        ("en", '"Shame on them. It does not end here," he said.', "Shame on them"),
        ("fr", "« Honte à eux. Ce n'est pas fini », a-t-il dit.", "Honte à eux"),
        ("de", "„Eine Schande. Es ist nicht vorbei“, sagte er.", "Eine Schande"),
        ("es", "«Es una vergüenza. No termina aquí», dijo.", "Es una vergüenza"),
    ],
)
def test_a_quote_that_closes_in_a_later_sentence_loses_its_opening_mark(
    lang: str, lede: str, title: str
) -> None:
    assert headline(lede, lang) == title


def test_an_unclosed_bracket_is_cut_before_as_at_a_clause_boundary() -> None:
    lede = (
        "Un gruppo di ricercatori guidato dal professor Richard Wiseman dell'università di "
        "Hertfordshire (conosciuto anche come il professore della psicologia dell'insolito. "
        "Altro."
    )
    title = headline(lede, "it")
    assert "(" not in title
    assert title == (
        "Un gruppo di ricercatori guidato dal professor Richard Wiseman dell'università di "
        "Hertfordshire"
    )


def test_the_summary_goes_on_past_a_cut_headline() -> None:
    sentence = (
        "Il consiglio comunale di Torino ha approvato ieri sera il nuovo piano dei trasporti "
        "pubblici della città, che prevede dieci nuove linee di autobus elettrici entro la fine "
        "del prossimo anno."
    )
    assert summary(f"{sentence} Altro.", "it") == f"{sentence} Altro."
    assert len(headline(sentence, "it")) < len(sentence)
