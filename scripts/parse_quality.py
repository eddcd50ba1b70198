"""Measure the seed parser on real articles: title retention, first paragraphs, datelines, dates.

    .venv/bin/python scripts/parse_quality.py [CORPUS_DIR]   (default: /work/shared/corpus)

Every corpus file (blank-line paragraphs, no title line) is parsed in four layouts: as it is,
in the seed's layout (one paragraph per line, a related-image block at the end), and each of
those with its MANIFEST.tsv title and a blank line prepended. A titled file must keep its title
as the headline; an untitled one must keep its first paragraph. Dates read from the text are
compared with the manifest's `original_date` (English Wikinews dates are metadata, not text).
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from newsgen.enrich import enrich
from newsgen.load import parse_seed

RELATED = (
    "\n![Valdis Dombrovskis, 12/12/25 [Credit: Council of the EU]](https://example.org/a.jpg)\n"
    "![Il ministro [foto: Wikimedia Commons]](https://example.org/b.png)\n"
)


def layouts(text: str) -> Iterator[tuple[str, str]]:
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    yield "blank-line", text
    yield "seed-style", "\n".join(paragraphs) + "\n" + RELATED


def main(corpus: Path) -> int:
    manifest = (corpus / "MANIFEST.tsv").open(encoding="utf-8")
    rows = list(csv.DictReader(manifest, delimiter="\t"))
    counts: Counter[str] = Counter()
    for row in rows:
        text = (corpus / row["file"]).read_text(encoding="utf-8")
        for layout, body in layouts(text):
            check_titles(row, layout, body, counts)
        check_dates(row, text, counts)
    report(counts)
    return 0


def check_titles(row: dict[str, str], layout: str, body: str, counts: Counter[str]) -> None:
    title = row["original_title"]
    titled, _ = parse_seed(row["file"], f"{title}\n\n{body}".encode())
    untitled, _ = parse_seed(row["file"], body.encode())
    assert titled is not None and untitled is not None
    headline = enrich(titled, default_lang="en", timezone="UTC").article.title
    counts[f"{layout} titled"] += 1
    if titled.title == title and headline == title:
        counts[f"{layout} title kept"] += 1
    else:
        print(f"{layout}: title lost: {row['file']}: {title!r} -> {headline!r}")
    first = body.strip().split("\n", 1)[0].strip()
    if untitled.title is None and untitled.blocks[0] == first:
        counts[f"{layout} first paragraph kept"] += 1
    else:
        print(f"{layout}: untitled file read a title: {row['file']}: {untitled.title!r}")


def check_dates(row: dict[str, str], text: str, counts: Counter[str]) -> None:
    draft, _ = parse_seed(row["file"], text.encode())
    assert draft is not None
    lang = row["language"]
    article = enrich(draft, default_lang="en", timezone="UTC").article
    counts[f"{lang} files"] += 1
    counts[f"{lang} dateline place"] += draft.dateline is not None
    counts[f"{lang} date in text"] += draft.date_text is not None
    counts[f"{lang} lang detected"] += article.lang == lang
    if draft.date_text is None:
        return
    if article.date is not None and article.date.isoformat() == row["original_date"]:
        counts[f"{lang} date equal to manifest"] += 1
    else:
        print(
            f"date: {row['file']}: {draft.date_text!r} -> {article.date}, manifest says "
            f"{row['original_date'] or 'nothing'}"
        )


def report(counts: Counter[str]) -> None:
    for layout in ("blank-line", "seed-style"):
        n = counts[f"{layout} titled"]
        for what in ("title kept", "first paragraph kept"):
            k = counts[f"{layout} {what}"]
            print(f"{layout}: {what}: {k}/{n} = {k / n:.1%}")
    for lang in ("it", "en", "fr"):
        n = counts[f"{lang} files"]
        parts = [
            f"{what} {counts[f'{lang} {what}']}"
            for what in (
                "dateline place",
                "date in text",
                "date equal to manifest",
                "lang detected",
            )
        ]
        print(f"{lang}: {n} files: " + ", ".join(parts))


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/corpus")))
