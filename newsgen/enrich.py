"""Stage 2, enrich: a `Draft` becomes a complete `Article` (plus its body HTML).

Per article: headline, summary, dateline, date, language, slug, body. Across articles
(`finalize`): identical texts collapse into one, slug collisions resolve deterministically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache

from newsgen import langmodel
from newsgen.langmodel import LanguageModel
from newsgen.markup import (
    NESTING_LIMIT,
    parse_image_line,
    plain_text,
    render_body,
    safe_url,
    stored_body,
)
from newsgen.records import Article, Draft, Image, Problem
from newsgen.slugs import article_url, make_slug, numbered

# A whole first sentence up to this length is the headline: half of the real ledes' first
# sentences fit (a fifth fit in 100); a longer one is cut at a clause boundary within it.
TITLE_LENGTH = 150
SUMMARY_LENGTH = 200
# A clause cut shorter than this says too little: the cut falls back to a later boundary.
_SHORTEST_CLAUSE = 40
# Language identification costs time per byte: 300 characters of news prose identify it, en,
# fr and de without error on the corpus, at a fifth of the cost of whole paragraphs.
LANGUAGE_SAMPLE = 300
# Shorter texts are given the site's language: too few n-grams to tell.
_SHORTEST_SAMPLE = 40


def _words(**by_lang: str) -> dict[str, frozenset[str]]:
    table = {lang: frozenset(words.split()) for lang, words in by_lang.items()}
    table[""] = frozenset().union(*table.values())
    return table


# Words a full stop follows inside a sentence, lower case, without their last full stop; a
# language not listed gets them all. A single letter (an initial) and, in German, an ordinal
# ("Im 26. Spiel") are never a sentence's end either.
_ABBREVIATIONS = _words(
    it="sig sigg sig.ra sig.na dott dott.ssa prof prof.ssa ing avv arch geom rag on sen dep "
    "gen col magg cap ten mons card don ss sen ecc es ca pag art nr no n p pp tel fig vol "
    "cfr dr st",
    en="mr mrs ms dr prof st jr sr gen col lt sgt capt cmdr adm gov sen rep pres rev hon mt "
    "ft vs etc e.g i.e u.s u.k no nos vol fig approx dept est univ inc ltd corp co jan feb "
    "mar apr jun jul aug sep sept oct nov dec",
    fr="m mm mme mmes mlle mlles dr pr me mgr st ste etc cf av env ex vol éd chap art min "
    "max janv févr avr juil sept oct nov déc boul bd apr j.-c n° no p pp",
    de="dr prof hr fr frl nr str bzw usw z.b u.a d.h z.t s.o s.u o.ä u.ä ca ggf evtl inkl "
    "zzgl vgl abs art bd jh jhd mio mrd st dipl ing mag univ geb gest sog kap tel jan feb "
    "aug sept okt nov dez etc v.chr n.chr",
    es="sr sra srta sres sras dr dra lic ing arq d dña ud uds vd vds prof gral gob av avda "
    "etc pág núm art cap dpto depto sto sta ee.uu aprox admón cía p pp",
)
# Words a headline must not end on: articles, prepositions, conjunctions, determiners, pronouns.
FUNCTION_WORDS = _words(
    it="il lo la i gli le l un uno una di a da in con su per tra fra e ed o od ma che non "
    "del dello della dei degli delle al allo alla ai agli alle dal dallo dalla dai dagli "
    "dalle nel nello nella nei negli nelle sul sullo sulla sui sugli sulle col coi come se "
    "anche né questo questa questi queste quel quello quella quei quelle cui chi mi ti si ci "
    "vi ne suo sua suoi sue loro",
    en="the a an of to in on at by for from with and or but nor that which who whom whose "
    "this these those its his her their our your my as than into onto over under about "
    "is are was were be been has have had will would not no so if",
    fr="le la les l un une des du de d au aux à en dans par pour sur sous avec et ou mais "
    "que qu qui dont ne ni ce cet cette ces son sa ses leur leurs se s c j n m t lors est "
    "sont",
    de="der die das den dem des ein eine einen einem einer eines und oder aber dass daß wie "
    "als im in am an auf aus bei mit nach von vom zu zum zur für über unter vor durch gegen "
    "ohne um sich sein seine ihr ihre nicht es er sie wir ist sind wird werden hat",
    es="el la los las lo un una unos unas de del al a en con por para sin sobre entre y e o "
    "u ni pero que quien cuyo este esta estos estas ese esa su sus se le les no es son",
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"”»’)\]]*(?=\s+[\"“«„‘(\[]?[^\W_]|\s*$)")
# Where a clause ends: a comma, semicolon or colon, a spaced dash, an opening bracket.
_CLAUSE_MARK = re.compile(r"[,;:](?=\s)|\s[–—-](?=\s)|\s(?=[(\[])")
_PAIRS = {"«": "»", "“": "”", "„": "“", "(": ")", "[": "]"}
_WORD_EDGES = re.compile(r"^[^\w]+|[^\w]+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Enriched:
    article: Article
    body_html: str
    problems: tuple[Problem, ...] = ()
    # The key of the text sample whose language was detected ("" when front matter said it).
    sample: str = ""


def enrich(
    draft: Draft,
    *,
    default_lang: str,
    timezone: str,
    languages: Mapping[str, str] | None = None,
) -> Enriched:
    """Derive every field the draft's front matter does not state. `languages` remembers
    detected languages by sample key (see `language_sample`): an edit further down an
    article does not need the language model again."""
    meta = draft.meta
    problems: list[Problem] = []
    lede = _lede(draft)
    sample = "" if meta.lang else language_sample(draft, default_lang)
    lang = (
        meta.lang
        or (languages.get(sample) if languages is not None else None)
        or detect_language(_sample_text(draft), default_lang)
    )
    date, published = _date(draft, lang, timezone, problems)
    # The headline is the summary's first sentence: the lede is split once for both.
    opening = [] if (meta.title or draft.title) and meta.summary else _opening(lede, lang)
    title = (
        meta.title
        or draft.title
        or _headline(_lead_in(draft) or opening, lang)
        or draft.path.rsplit("/", 1)[-1]
    )
    body_html, flattened = render_body(draft.blocks)
    if flattened:
        problems.append(
            Problem(
                path=draft.path,
                message=("a block nested" if flattened == 1 else f"{flattened} blocks nested")
                + f" more than {NESTING_LIMIT} levels deep (quotes or lists) became plain "
                "paragraphs; the text is all there; nest less to keep the structure",
            )
        )
    slug = _slug(draft, title, problems)
    article = Article(
        id=draft.id,
        id_given=meta.id is not None,
        path=draft.path,
        order=0,
        title=plain_text(title),
        slug=slug,
        slug_given=bool(meta.slug),
        lang=lang,
        dateline=meta.dateline or draft.dateline,
        date=date,
        published=published,
        summary=meta.summary or _summary(opening, lang),
        tags=meta.tags,
        related=draft.related,
        image=meta.image or _first_image(draft),
        lead=(
            Image(url=meta.image, caption=meta.image_caption or "", credit=meta.image_credit or "")
            if meta.image
            else None
        ),
        # The body and the related images, stored together (see stored_body).
        body_key=hashlib.sha256(stored_body(body_html, draft.related).encode()).hexdigest()[:24],
        draft=meta.draft,
        aliases=meta.aliases,
    )
    return Enriched(article=article, body_html=body_html, problems=tuple(problems), sample=sample)


def language_sample(draft: Draft, default_lang: str) -> str:
    """The key of the text the language is detected from, and of the fallback language."""
    return _sample_key(_sample_text(draft), default_lang)


def _sample_text(draft: Draft) -> str:
    return " ".join(draft.blocks[:3])[:LANGUAGE_SAMPLE]


def _sample_key(text: str, default_lang: str) -> str:
    return hashlib.sha256(f"{default_lang}\0{text}".encode()).hexdigest()[:24]


def detect_languages(
    drafts: Iterable[Draft], default_lang: str, known: Mapping[str, str]
) -> dict[str, str]:
    """The language of each draft that front matter leaves open, by sample key: as `known`
    remembers it, else detected. The texts `known` does not have are detected together, at
    half the cost of one by one."""
    found: dict[str, str] = {}
    texts: dict[str, str] = {}
    for draft in drafts:
        if not draft.meta.lang:
            text = _sample_text(draft)
            key = _sample_key(text, default_lang)
            if key in known:
                found[key] = known[key]
            else:
                texts[key] = text
    found.update(zip(texts, _detect_all(list(texts.values()), default_lang), strict=True))
    return found


def _slug(draft: Draft, title: str, problems: list[Problem]) -> str:
    """The URL name: `slug:` when given, else the title's; the text's id when neither gives
    one. A given slug that is not already a plain URL name (`../../x`, `/etc/x`) is
    slugified too, with a warning, so it can never name a path outside /articles/."""
    given = draft.meta.slug
    slug = make_slug(given or title)
    if given and slug != given:
        problems.append(
            Problem(
                path=draft.path,
                line=1,
                message=(
                    f"'slug: {given}' is not a plain URL name; published as "
                    f"{article_url(slug or draft.id)}; use lower-case letters, digits and dashes"
                ),
            )
        )
    elif not slug:
        problems.append(
            Problem(
                path=draft.path,
                line=1,
                message=(
                    f"the title gives no usable URL; published as {article_url(draft.id)}; "
                    "set 'slug:' in front matter to choose one"
                ),
            )
        )
    return slug or draft.id


def _lede(draft: Draft) -> str:
    """The start of the first paragraph's plain text, dateline removed: enough for the
    headline and the summary, without splitting a whole long paragraph into sentences."""
    index, start = draft.lede
    first = draft.blocks[index] if index >= 0 else ""
    return plain_text(first[start : start + 4 * SUMMARY_LENGTH])


def _lead_in(draft: Draft) -> list[str]:
    """The teaser sentence or title-like paragraph before the dateline, as the headline's
    one sentence; [] when there is none."""
    index, end = draft.lead_in
    text = plain_text(draft.blocks[index][:end]) if index >= 0 else ""
    return [text] if text else []


def first_sentence_end(text: str, lang: str = "") -> int | None:
    """Where the first sentence of `text` ends (after its closing punctuation and quotes);
    None when it does not end. A full stop after an abbreviation of the language, an initial,
    a German ordinal, or before a lower-case word ends no sentence."""
    for match in _SENTENCE_END.finditer(text):
        follows = text[match.end() :].lstrip(' "“«„‘([')[:1]
        if follows.islower():
            continue
        if match.group().startswith(".") and not _full_stop(text[: match.start()], lang):
            continue
        return match.end()
    return None


def _full_stop(before: str, lang: str) -> bool:
    """Whether a full stop after `before` can end a sentence."""
    words = before.rsplit(None, 1)
    word = words[-1].lstrip('"“«„‘([') if words else ""
    token = re.split(r"['’]", word.lower())[-1]
    if len(token) == 1 and token.isalpha():
        return False  # an initial: "J. R. R. Tolkien", "M. Dupont"
    if token.isdigit():
        # "Im 26. Spiel", "am 3. Oktober": German writes ordinals with a full stop.
        return lang not in ("de", "") or len(token) > 3
    abbreviations = _ABBREVIATIONS.get(lang, _ABBREVIATIONS[""])
    if token in abbreviations:
        return False
    # "z.B", "U.S", "e.g": letters between full stops.
    return not ("." in token and all(len(p) <= 3 and p.isalpha() for p in token.split(".")))


def _sentences(text: str, lang: str = "") -> Iterator[str]:
    """One sentence at a time: a headline needs only the first, a summary the first few."""
    while text:
        end = first_sentence_end(text, lang) or len(text)
        sentence = text[:end].strip()
        if sentence:
            yield sentence
        text = text[end:].lstrip()


def cut(text: str, limit: int) -> str:
    """At most about `limit` characters, cut at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return head.rstrip(" ,;:–—-") + "…"


def headline(lede: str, lang: str = "") -> str:
    return _headline(_opening(lede, lang), lang)


def summary(lede: str, lang: str = "") -> str:
    return _summary(_opening(lede, lang), lang)


def _opening(lede: str, lang: str = "") -> list[str]:
    """The lede's first sentences, up to the first that a summary has no room for."""
    parts: list[str] = []
    length = -1
    for part in _sentences(lede, lang):
        parts.append(part)
        length += 1 + len(part)
        if length > SUMMARY_LENGTH:
            break
    return parts


def _headline(opening: list[str], lang: str = "") -> str:
    first = opening[0] if opening else ""
    if first.endswith(".") and not first.endswith(".."):
        first = first[:-1]
    return fit(first, TITLE_LENGTH, lang)


def _summary(opening: list[str], lang: str = "") -> str:
    text = opening[0] if opening else ""
    for part in opening[1:]:
        if len(text) + 1 + len(part) > SUMMARY_LENGTH:
            break
        text = f"{text} {part}"
    if len(text) <= SUMMARY_LENGTH:
        return text
    # A description may leave a quote open where it is cut: it says it goes on ("…").
    return _word_cut(text[: SUMMARY_LENGTH + 1], lang, balanced=False) + "…"


def fit(text: str, limit: int, lang: str = "", *, clause_ellipsis: bool = False) -> str:
    """`text` whole when it fits and leaves no quote or bracket open; else cut at the last
    clause boundary that keeps enough of it (with an ellipsis when `clause_ellipsis`), else
    at a word boundary with an ellipsis; a cut never ends on a function word of the language
    nor leaves a quote or bracket open."""
    opened = _unclosed(text)
    if opened == 0:
        # A quote that opens the text and closes in a later sentence: its mark goes.
        return fit(text[1:].lstrip(), limit, lang, clause_ellipsis=clause_ellipsis)
    if opened is None and len(text) <= limit:
        return text
    room = text[: min(limit, len(text) if opened is None else opened) + 1]
    clause = _clause_cut(room, lang)
    if clause:
        return clause + ("…" if clause_ellipsis else "")
    return _word_cut(room, lang) + "…"


def _clause_cut(room: str, lang: str) -> str:
    for mark in reversed(list(_CLAUSE_MARK.finditer(room))):
        head = room[: mark.start()].rstrip()
        if len(head) < _SHORTEST_CLAUSE:
            break
        if _ends_well(head, lang):
            return head
    return ""


def _word_cut(room: str, lang: str, *, balanced: bool = True) -> str:
    words = room.split(" ")
    if len(words) > 1:
        words.pop()  # the word the limit cuts, or the space before an opening mark
    while len(words) > 1:
        head = " ".join(words).rstrip(" ,;:–—-")
        if _ends_well(head, lang, balanced=balanced):
            return head
        words.pop()
    return " ".join(words).rstrip(" ,;:–—-")


def _ends_well(head: str, lang: str, *, balanced: bool = True) -> bool:
    """Not ending on a function word, nor (when `balanced`) leaving a quote or a bracket
    open."""
    last = head.rsplit(None, 1)[-1] if head.strip() else ""
    word = re.split(r"['’]", _WORD_EDGES.sub("", last.lower()))[0]
    if word in FUNCTION_WORDS.get(lang, FUNCTION_WORDS[""]) or last[-1:] in "'’":
        return False
    return not balanced or _unclosed(head) is None


def _unclosed(text: str) -> int | None:
    """Where the first quote or bracket that `text` opens and never closes is; None when
    all are closed. Straight double quotes pair with each other."""
    stack: list[tuple[str, int]] = []
    straight: int | None = None
    for index, char in enumerate(text):
        if char == '"':
            straight = index if straight is None else None
        elif stack and _PAIRS[stack[-1][0]] == char:
            stack.pop()  # before opening: "“" closes a German „ and opens an English quote
        elif char in _PAIRS:
            stack.append((char, index))
    found = [i for _, i in stack] + ([straight] if straight is not None else [])
    return min(found) if found else None


def _first_image(draft: Draft) -> str | None:
    candidates = [i.url for i in draft.related]
    for block in draft.blocks:
        image = parse_image_line(block) if block.startswith("![") else None
        if image:
            candidates.insert(0, image.url)
            break
    return next((url for url in candidates if safe_url(url)), None)


# --- language -------------------------------------------------------------------------------


def detect_language(text: str, default: str) -> str:
    """The language of `text` by py3langid's model (it ships in the wheel); the site default
    when the text is too short or the guess is unsure."""
    return _detect_all([text], default)[0]


def _detect_all(texts: Sequence[str], default: str) -> list[str]:
    found = [default] * len(texts)
    judged = [i for i, text in enumerate(texts) if len(text) >= _SHORTEST_SAMPLE]
    if judged:
        answers = langmodel.classify_all(_model(), [texts[i] for i in judged])
        for i, (lang, confidence) in zip(judged, answers, strict=True):
            found[i] = lang if confidence >= 0.5 else default
    return found


# The model is 100 MB, mapped from the cache copy: loaded once per process when first needed,
# shared by forked workers.
_MODEL: list[LanguageModel] = []
_LOADER: list[Callable[[], LanguageModel]] = []


def use_language_model(loader: Callable[[], LanguageModel]) -> None:
    """How to load the language model when it is first needed (see newsgen.langmodel.load)."""
    _LOADER[:] = [loader]


def preload_language_model() -> None:
    """Load it now: before workers fork, so that they share one copy."""
    _model()


def _model() -> LanguageModel:
    if not _MODEL:
        _MODEL.append(_LOADER[0]() if _LOADER else langmodel.packaged())
    return _MODEL[0]


# --- dates ----------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_OF = r"(?:de\s+|del\s+)?"
_DMY = re.compile(rf"^(\d{{1,2}})(?:er|º|°|\.)?\s+{_OF}([^\W\d_]+)\.?\s+{_OF}(\d{{4}})$")
_MDY = re.compile(r"^([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")


def _date(
    draft: Draft, lang: str, timezone: str, problems: list[Problem]
) -> tuple[dt.date | None, dt.datetime | None]:
    value = draft.meta.date
    tz = zoneinfo.ZoneInfo(timezone)
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=tz)
        return aware.astimezone(tz).date(), aware
    if isinstance(value, dt.date):
        return value, None
    if not draft.date_text:
        return None, None
    date = parse_date(draft.date_text, lang)
    if date is None:
        problems.append(
            Problem(
                path=draft.path,
                line=draft.body_line,
                message=(
                    f"'{draft.date_text}' looks like a date but is not one in '{lang}'; "
                    "the article is undated; add 'date:' in front matter"
                ),
            )
        )
    return date, None


def parse_date(text: str, lang: str) -> dt.date | None:
    """'29 marzo 2022', '3 juillet 2012', 'April 5, 2020', '2022-03-29' in the language's
    month names (Babel's locale data)."""
    text = " ".join(text.split())
    iso = _ISO.match(text)
    if iso:
        return _make_date(int(iso[1]), int(iso[2]), int(iso[3]))
    dmy = _DMY.match(text)
    if dmy:
        month = month_number(dmy[2], lang)
        return _make_date(int(dmy[3]), month, int(dmy[1])) if month else None
    mdy = _MDY.match(text)
    if mdy:
        month = month_number(mdy[1], lang)
        return _make_date(int(mdy[3]), month, int(mdy[2])) if month else None
    return None


def month_number(name: str, lang: str) -> int | None:
    """A month name in `lang`: wide, abbreviated ("févr."), or a longer abbreviation
    ("Sept."); accents optional ("fevrier", "aout")."""
    months = month_numbers(lang)
    key = _fold(name.rstrip("."))
    if key in months:
        return months[key]
    numbers = {n for full, n in months.items() if len(key) >= 3 and full.startswith(key)}
    return numbers.pop() if len(numbers) == 1 else None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


@cache
def month_numbers(lang: str) -> dict[str, int]:
    """Lower-case month names (wide and abbreviated, format and stand-alone) → number."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    names: dict[str, int] = {}
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            for number, name in locale.months[context][width].items():
                names.setdefault(_fold(name.rstrip(".")), int(number))
    return names


# --- across articles ------------------------------------------------------------------------


def finalize(articles: Sequence[Article]) -> tuple[list[Article], list[Problem]]:
    """Articles in source order → deduplicated, with unique ids and slugs (each keeps its
    `order`).

    Slugs stated in front matter are served first; later collisions get `-2`, `-3`… with a
    warning, so no article ever overwrites another. An id is an article's identity in feeds
    and in the URL registry: of two articles with one id, the second is skipped.
    """
    problems: list[Problem] = []
    kept: list[Article] = []
    seen: dict[tuple[str, str], Article] = {}
    for article in articles:
        # Same headline, body and related images (the body key covers both): the same text,
        # whatever the line endings.
        first = seen.setdefault((article.title, article.body_key), article)
        if first is not article:
            problems.append(
                Problem(
                    path=article.path,
                    line=1,
                    message=(f"same text as {first.path}; skipped; delete one of the two files"),
                )
            )
            continue
        kept.append(article)
    kept = _unique_ids(kept, problems)
    slugs = _unique_slugs(kept, problems)
    unique = [a if a.slug == slugs[i] else replace(a, slug=slugs[i]) for i, a in enumerate(kept)]
    return unique, problems


def _unique_ids(articles: Sequence[Article], problems: list[Problem]) -> list[Article]:
    """The articles whose id no earlier one has. An id taken from a file (a seed's name or
    text, a curated file's path) is served before one stated with `id:`, which could
    otherwise take a published article's identity."""
    owners: dict[str, Article] = {}
    skipped: set[int] = set()
    for i in sorted(range(len(articles)), key=lambda i: (articles[i].id_given, i)):
        article = articles[i]
        owner = owners.setdefault(article.id, article)
        if owner is article:
            continue
        skipped.add(i)
        fix = "choose another id" if article.id_given else "rename one of the two files"
        what = f"'id: {article.id}'" if article.id_given else f"its id {article.id}"
        problems.append(
            Problem(
                path=article.path,
                line=1,
                level="error",
                message=f"{what} is already the id of {owner.path}; skipped; {fix}",
            )
        )
    return [a for i, a in enumerate(articles) if i not in skipped]


def _unique_slugs(articles: Sequence[Article], problems: list[Problem]) -> list[str]:
    taken: dict[str, Article] = {}
    result: list[str] = [""] * len(articles)
    turns = sorted(range(len(articles)), key=lambda i: (not articles[i].slug_given, i))
    for i in turns:
        article = articles[i]
        slug = article.slug
        if slug in taken:
            n = 2
            while (new := numbered(slug, n)) in taken:
                n += 1
            problems.append(
                Problem(
                    path=article.path,
                    line=1,
                    message=(
                        f"URL {article_url(slug)} is already used by {taken[slug].path}; "
                        f"published as {article_url(new)}; set 'slug:' in front matter to choose"
                    ),
                )
            )
            slug = new
        taken[slug] = article
        result[i] = slug
    return result
