"""Measure the seed parser on real articles: titles, first paragraphs, headlines, datelines, dates.

    .venv/bin/python scripts/parse_quality.py [CORPUS_DIR ...]
    (default: the repository's seeds/ and /work/shared/corpus; run it with PYTHONPATH set to
    the checkout whose newsgen is measured)

Every real article (a folder's MANIFEST.tsv or CORPUS-MANIFEST.tsv names its language, title and
date; a .txt file it does not name counts as Italian, like the repository's own seed) is read
once, deduplicated by file name, and parsed in several layouts:

- titles: as it is (blank-line paragraphs) and in the seed's layout (one paragraph per line, a
  related-image block at the end), each with its manifest title and a blank line prepended,
  and without: a titled file must keep its title as the headline, an untitled one its first
  paragraph (in the body, not as a title), and every paragraph of the file;
- headlines, datelines and dates: untitled, in the seed's layout, as a seed is scraped. Per
  language: how many headlines end with an ellipsis, end on a function word, leave a quote or
  a bracket open, or were split at an ordinal, an abbreviation, an initial or a decimal; how
  many datelines (places) and dates were read, and whether each date equals the manifest's
  `original_date` (English Wikinews dates are metadata, not text).

The checks are written here, apart from newsgen's rules, so that they can find what those miss.
"""

from __future__ import annotations

import csv
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from newsgen.enrich import enrich
from newsgen.load import parse_seed
from newsgen.markup import plain_text

REPO = Path(__file__).resolve().parent.parent
DEFAULT = (REPO / "seeds", Path("/work/shared/corpus"))
LANGUAGES = ("it", "en", "fr", "de", "es")
RELATED = (
    "\n![Valdis Dombrovskis, 12/12/25 [Credit: Council of the EU]](https://example.org/a.jpg)\n"
    "![Il ministro [foto: Wikimedia Commons]](https://example.org/b.png)\n"
)
# Words a headline must not end on: articles, prepositions, conjunctions, determiners, pronouns.
FUNCTION_WORDS = {
    "it": "il lo la i gli le l un uno una un' di a da in con su per tra fra e ed o od ma che "
    "non del dello della dei degli delle al allo alla ai agli alle dal dallo dalla dai dagli "
    "dalle nel nello nella nei negli nelle sul sullo sulla sui sugli sulle col coi come se "
    "anche né questo questa questi queste quel quello quella quei quelle cui chi mi ti si ci vi "
    "ne suo sua suoi sue loro dell' all' dall' nell' sull' d' l' quest' quell' c'",
    "en": "the a an of to in on at by for from with and or but nor that which who whom whose "
    "this these those its his her their our your my as than into onto over under about is are "
    "was were be been has have had will would not no so if",
    "fr": "le la les l un une des du de d au aux à en dans par pour sur sous avec et ou mais "
    "que qu qui dont ne ni ce cet cette ces son sa ses leur leurs se sa l' d' qu' n' s' c' "
    "j' m' t' lors est sont",
    "de": "der die das den dem des ein eine einen einem einer eines und oder aber dass daß "
    "wie als im in am an auf aus bei mit nach von vom zu zum zur für über unter vor durch "
    "gegen ohne um sich sein seine ihr ihre nicht es er sie wir ist sind wird werden hat",
    "es": "el la los las lo un una unos unas de del al a en con por para sin sobre entre y e "
    "o u ni pero que quien cuyo este esta estos estas ese esa su sus se le les no es son",
}
# Abbreviations and titles a full stop follows inside a sentence (checked in every language).
_ABBREVIATION_WORDS = (
    "dr dott dott.ssa prof prof.ssa ing avv arch sig sigg sig.ra geom on sen rag mons card "
    "mr mrs ms st jr sr mt gen col lt sgt capt gov rep pres rev vs etc ecc e.g i.e u.s u.k "
    "m mm mme mlle mgr me pr cf av env hr fr frau nr nº no str bzw usw z.b u.a d.h z.t vgl "
    "ca evtl ggf inkl sr sra srta dra lic ud uds vd art fig vol pag p pp s ss n"
)
ABBREVIATIONS = set(_ABBREVIATION_WORDS.split())
_QUOTES = (("«", "»"), ("“", "”"), ("„", "“"), ("(", ")"), ("[", "]"))


def main(folders: list[Path]) -> int:
    rows = read_corpus(folders)
    counts: Counter[str] = Counter()
    first_lengths: dict[str, list[int]] = {}
    for row in rows:
        for layout, body in layouts(row["text"]):
            check_titles(row, layout, body, counts)
        check_article(row, counts, first_lengths)
    report(counts, first_lengths)
    return 0


def read_corpus(folders: list[Path]) -> list[dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for folder in folders:
        if not folder.is_dir():
            print(f"{folder}: not a folder; left out")
            continue
        named = {}
        for manifest in ("MANIFEST.tsv", "CORPUS-MANIFEST.tsv"):
            if (folder / manifest).exists():
                with (folder / manifest).open(encoding="utf-8") as lines:
                    named = {r["file"]: r for r in csv.DictReader(lines, delimiter="\t")}
        for path in sorted(folder.glob("*.txt")):
            row = named.get(path.name, {"language": "it", "original_date": ""})
            text = path.read_text(encoding="utf-8")
            rows.setdefault(path.name, {**row, "file": path.name, "text": text})
    return [rows[name] for name in sorted(rows)]


def paragraphs_of(text: str) -> list[str]:
    """The file's paragraphs: its lines of text (newsgen never glues a line to the next)."""
    return [p.strip() for p in text.split("\n") if p.strip() and not p.strip().startswith("![")]


def layouts(text: str) -> Iterator[tuple[str, str]]:
    paragraphs = paragraphs_of(text)
    yield "blank-line", "\n\n".join(paragraphs) + "\n"
    yield "seed-style", "\n".join(paragraphs) + "\n" + RELATED


def check_titles(row: dict[str, str], layout: str, body: str, counts: Counter[str]) -> None:
    title = row.get("original_title")
    untitled, _ = parse_seed(row["file"], body.encode())
    assert untitled is not None
    paragraphs = paragraphs_of(body)
    counts[f"{layout} files"] += 1
    if untitled.title is None and untitled.blocks[0] == paragraphs[0]:
        counts[f"{layout} first paragraph kept"] += 1
    else:
        print(f"{layout}: untitled file read a title: {row['file']}: {untitled.title!r}")
    counts[f"{layout} paragraphs"] += len(paragraphs)
    lines = {line.strip() for block in untitled.blocks for line in block.split("\n")}
    counts[f"{layout} paragraphs kept"] += sum(p in lines for p in paragraphs)
    if not title:
        return
    titled, _ = parse_seed(row["file"], f"{title}\n\n{body}".encode())
    assert titled is not None
    headline = enrich(titled, default_lang="en", timezone="UTC").article.title
    counts[f"{layout} titled"] += 1
    if headline == title:
        counts[f"{layout} title kept as the headline"] += 1
    else:
        print(f"{layout}: title lost: {row['file']}: {title!r} -> {headline!r}")


def check_article(
    row: dict[str, str], counts: Counter[str], first_lengths: dict[str, list[int]]
) -> None:
    paragraphs = paragraphs_of(row["text"])
    draft, _ = parse_seed(row["file"], ("\n".join(paragraphs) + "\n" + RELATED).encode())
    assert draft is not None
    article = enrich(draft, default_lang="en", timezone="UTC").article
    lang = row["language"]
    counts[f"{lang} files"] += 1
    counts[f"{lang} lang detected"] += article.lang == lang
    first = plain_text(" ".join(draft.blocks[:2]))
    check_headline(row["file"], lang, article.title, first, counts)
    first_lengths.setdefault(lang, []).append(first_sentence_length(article.title, draft))
    counts[f"{lang} dateline place"] += draft.dateline is not None
    counts[f"{lang} date in text"] += draft.date_text is not None
    counts[f"{lang} headline opens with a date"] += bool(
        re.match(r"\d{1,2}(er)?\.? \w+ \d{4}", article.title)
    )
    if draft.date_text is None:
        return
    if article.date is not None and article.date.isoformat() == row["original_date"]:
        counts[f"{lang} date equal to manifest"] += 1
    elif row["original_date"]:
        counts[f"{lang} date WRONG"] += 1
        print(
            f"date WRONG: {row['file']}: {draft.date_text!r} -> {article.date}, manifest says "
            f"{row['original_date']}"
        )
    else:
        print(f"date: {row['file']}: {draft.date_text!r} -> {article.date}, manifest has none")


def first_sentence_length(title: str, draft: object) -> int:
    """The length of the headline when it is a whole sentence; else -1 (cut)."""
    return -1 if title.endswith("…") else len(title)


def check_headline(name: str, lang: str, title: str, first: str, counts: Counter[str]) -> None:
    counts[f"{lang} headlines"] += 1
    text = title.removesuffix("…").rstrip()
    if title.endswith("…"):
        counts[f"{lang} ellipsis"] += 1
    last = re.sub(r"^\W+|[^\w']+$", "", text.rsplit(None, 1)[-1].lower()) if text else ""
    words = set(FUNCTION_WORDS.get(lang, "").split())
    if last in words or last.rstrip("'’") + "'" in words:
        counts[f"{lang} function-word ending"] += 1
        print(f"headline ends on a function word: {name}: {title!r}")
    if not balanced(text):
        counts[f"{lang} unbalanced"] += 1
        print(f"headline leaves a quote or bracket open: {name}: {title!r}")
    why = broken_split(text, first, lang)
    if why:
        counts[f"{lang} broken split"] += 1
        print(f"headline split at {why}: {name}: {title!r}")


def balanced(text: str) -> bool:
    if text.count('"') % 2:
        return False
    for opening, closing in _QUOTES:
        depth = 0
        for char in text:
            if char == opening and (opening != closing):
                depth += 1
            elif char == closing:
                depth -= 1
                if depth < 0 and opening != "„":
                    return False
        if depth > 0:
            return False
    return True


def broken_split(headline: str, first: str, lang: str) -> str:
    """What the headline's sentence was wrongly split at, when it ends where the paragraph
    goes on after a full stop that ends no sentence."""
    at = first.find(headline)
    if at < 0:
        return ""
    after = first[at + len(headline) :]
    if not after.startswith(".") or not after[1:2].isspace():
        return ""
    word = (headline.rsplit(None, 1) or [""])[-1]
    token = re.split(r"['’]", word.lower().strip('"“«(['))[-1]
    following = after[1:].lstrip()[:1]
    if following.islower():
        return f"'{token}.' before a lower-case word"
    if token.isdigit() and len(token) <= 3 and lang == "de":
        return "an ordinal"
    if len(token) == 1 and token.isalpha():
        return "an initial"
    if token in ABBREVIATIONS:
        return "an abbreviation"
    return ""


def report(counts: Counter[str], first_lengths: dict[str, list[int]]) -> None:
    for layout in ("blank-line", "seed-style"):
        n = counts[f"{layout} files"]
        k = counts[f"{layout} first paragraph kept"]
        print(f"{layout}: untitled files, first paragraph kept in the body: {k}/{n} = {k / n:.1%}")
        p, kept = counts[f"{layout} paragraphs"], counts[f"{layout} paragraphs kept"]
        print(f"{layout}: untitled files, paragraphs kept: {kept}/{p} = {kept / p:.1%}")
        t, k = counts[f"{layout} titled"], counts[f"{layout} title kept as the headline"]
        print(f"{layout}: titled files, title kept as the headline: {k}/{t} = {k / t:.1%}")
    print("untitled seed-style articles, per language:")
    for lang in LANGUAGES:
        n = counts[f"{lang} files"]
        if not n:
            continue
        h = counts[f"{lang} headlines"]
        whole = [x for x in first_lengths[lang] if x >= 0]
        print(
            f"  {lang}: {n} files; headlines: ellipsis {counts[f'{lang} ellipsis']}/{h} = "
            f"{counts[f'{lang} ellipsis'] / h:.0%}, function-word ending "
            f"{counts[f'{lang} function-word ending']}, unbalanced {counts[f'{lang} unbalanced']}, "
            f"broken split {counts[f'{lang} broken split']}, opening with a date "
            f"{counts[f'{lang} headline opens with a date']}, median length of the uncut "
            f"{statistics.median(whole) if whole else 0:.0f}"
        )
        print(
            f"  {lang}: datelines: place {counts[f'{lang} dateline place']}, date in text "
            f"{counts[f'{lang} date in text']}, date equal to manifest "
            f"{counts[f'{lang} date equal to manifest']}, date WRONG "
            f"{counts[f'{lang} date WRONG']}; language detected {counts[f'{lang} lang detected']}"
        )


if __name__ == "__main__":
    sys.exit(main([Path(a) for a in sys.argv[1:]] or list(DEFAULT)))
