"""Related articles of this archive: for each article, a few others that share its rarer
words and names, its place or its tags. Part of planning: pure, deterministic, and linear in
the size of the archive (each article looks only through its rarest terms, whose lists of
articles are short by definition).
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter
from collections.abc import Sequence

from newsgen.records import Article

SHOWN = 5
# An article looks for others through this many of its rarest terms.
PROBES = 8
# Words shorter than this are mostly function words in every language the site speaks.
WORD = re.compile(r"[^\W\d_]{4,}")
# A capitalised word that does not open a sentence (or that follows an elision: l'Etna,
# dell'Eyjafjallajökull): a name, most of the time. Sharing one is what tells a related
# article from one that only shares common words.
NAME = re.compile(r"(?:(?<=\s)(?<![.!?:;«\"“”'(\[]\s)|(?<=\w['’]))[^\W\d_a-zà-öø-ÿ][^\W\d_]{3,}")
# Names of days and months (en, it, fr, de, es): news ledes are full of them, and two
# articles that both happened on a Saturday are not related by it.
CALENDAR = frozenset(
    {
        "abril",
        "agosto",
        "août",
        "april",
        "aprile",
        "august",
        "avril",
        "december",
        "dezember",
        "dicembre",
        "diciembre",
        "dienstag",
        "dimanche",
        "domenica",
        "domingo",
        "donnerstag",
        "décembre",
        "enero",
        "febbraio",
        "febrero",
        "februar",
        "february",
        "freitag",
        "friday",
        "février",
        "gennaio",
        "giovedì",
        "giugno",
        "januar",
        "january",
        "janvier",
        "jeudi",
        "jueves",
        "juillet",
        "juin",
        "juli",
        "julio",
        "july",
        "june",
        "juni",
        "junio",
        "luglio",
        "lundi",
        "lunedì",
        "lunes",
        "maggio",
        "march",
        "mardi",
        "mars",
        "martedì",
        "martes",
        "marzo",
        "mayo",
        "mercoledì",
        "mercredi",
        "mittwoch",
        "miércoles",
        "monday",
        "montag",
        "märz",
        "november",
        "novembre",
        "noviembre",
        "october",
        "octobre",
        "octubre",
        "oktober",
        "ottobre",
        "sabato",
        "samedi",
        "samstag",
        "saturday",
        "september",
        "septembre",
        "septiembre",
        "settembre",
        "sonntag",
        "sunday",
        "sábado",
        "thursday",
        "tuesday",
        "vendredi",
        "venerdì",
        "viernes",
        "wednesday",
    }
)


def related_articles(live: Sequence[Article]) -> list[tuple[Article, ...]]:
    """For each article of `live` (in that order), up to SHOWN related articles, those that
    share two of its rarer terms, one of them a name: same language first, then the rarest
    shared, then nearest in the listing's order."""
    # Tuples of interned strings, not sets: a 100k archive holds millions of terms here, and
    # a tuple of 30 costs a tenth of a set's memory while `in` still takes microseconds.
    term_sets = [tuple(map(sys.intern, terms(article))) for article in live]
    # Likewise the names: as sets they were the plan's peak (44 MB more than where it began,
    # at 100,000 articles).
    named = [tuple(map(sys.intern, names(article))) for article in live]
    counts: Counter[str] = Counter()
    for found in term_sets:
        counts.update(found)
    # A term found in more articles than this names a subject too broad to relate them.
    common = min(40, max(10, len(live) // 20))
    postings: dict[str, list[int]] = {}
    for i, found in enumerate(term_sets):
        for term in found:
            if 1 < counts[term] <= common:
                postings.setdefault(term, []).append(i)
    # Rarer terms say more: each weighs its inverse document frequency. An article looks
    # through its rarest, ranked once for all (ties by the term itself: never the order of a
    # set, which the hash seed changes).
    weight = {term: math.log(len(live) / counts[term]) for term in postings}
    rank = {term: n for n, term in enumerate(sorted(postings, key=lambda t: (counts[t], t)))}
    probes = [
        sorted(filter(rank.__contains__, found), key=rank.__getitem__)[:PROBES]
        for found in term_sets
    ]
    return [
        _best(i, live, term_sets, named[i], [(t, weight[t]) for t in probes[i]], postings)
        for i in range(len(live))
    ]


def terms(article: Article) -> set[str]:
    """What an article is about, as far as its headline and summary tell: its words of four
    letters or more (case folded), its place (`@`) and its tags (`#`)."""
    words = set(WORD.findall(f"{article.title} {article.summary}".casefold()))
    return (words - CALENDAR) | _place_and_tags(article)


def names(article: Article) -> set[str]:
    """The terms that name something: capitalised words inside a sentence (case folded), the
    place and the tags."""
    # Summaries often open with the headline's words: a full stop between keeps the opening
    # capital of either from passing for a name.
    words = {word.casefold() for word in NAME.findall(f"{article.title}. {article.summary}")}
    return (words - CALENDAR) | _place_and_tags(article)


def _place_and_tags(article: Article) -> set[str]:
    found = {"#" + tag.casefold() for tag in article.tags}
    if article.dateline:
        found.add("@" + article.dateline.casefold())
    return found


def _best(
    i: int,
    live: Sequence[Article],
    term_sets: Sequence[tuple[str, ...]],
    named: tuple[str, ...],
    probes: list[tuple[str, float]],
    postings: dict[str, list[int]],
) -> tuple[Article, ...]:
    shared: Counter[int] = Counter()
    for term, _ in probes:
        shared.update(postings[term])
    del shared[i]
    # One shared term is a coincidence as often as not: two are the least that relates, and
    # one of them must name something (a person, a place, a tag), not only describe.
    naming = [term for term, _ in probes if term in named]
    strong = [
        j for j, n in shared.items() if n > 1 and any(term in term_sets[j] for term in naming)
    ]
    if not strong:
        return ()
    lang = live[i].lang

    def rank(j: int) -> tuple[bool, float, int, int]:
        score = sum(w for term, w in probes if term in term_sets[j])
        return (live[j].lang != lang, -round(score, 6), abs(j - i), j)

    return tuple(live[j] for j in sorted(strong, key=rank)[:SHOWN])
