"""Deterministic benchmark corpora in the seed format, made from the real articles in seeds/.

Each generated article takes the paragraphs of a real article (Italian, English, French), shuffles
and varies them with a seeded random generator, opens with a dateline (some with a date in the
article's language), ends half the time with a related-images block, and carries one unique
sentence so that no two texts are identical. About 5 % get a curated Markdown file with a title,
a date and tags.

    python benchmarks/corpus.py 10000 /tmp/corpus-10k

Files are written one at a time and the run can be resumed (see `generate`): a million
articles take about 3 minutes and 4 GB.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PLACES = [
    "Roma",
    "Milano",
    "BRUXELLES",
    "Bruxelles",
    "Paris",
    "Québec",
    "London",
    "Berlin",
    "New York",
    "Napoli",
    "Genève",
    "Lyon",
    "Madrid",
    "Torino",
    "Washington",
    "Dublin",
]
MONTHS = {
    "it": [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
TAGS = [
    "politica",
    "economia",
    "europa",
    "health",
    "sport",
    "culture",
    "science",
    "justice",
    "climate",
    "elections",
    "technology",
    "diplomacy",
]


def real_articles() -> list[tuple[str, list[str]]]:
    """(language, paragraphs) of every real article in the repository's seeds/."""
    languages: dict[str, str] = {}
    manifest = REPO / "seeds" / "CORPUS-MANIFEST.tsv"
    for line in manifest.read_text(encoding="utf-8").splitlines()[1:]:
        cells = line.split("\t")
        languages[cells[0]] = cells[1]
    articles = []
    for path in sorted((REPO / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        paragraphs = [p.strip() for p in text.split("\n") if p.strip() and not p.startswith("![")]
        articles.append((languages.get(path.name, "it"), paragraphs))
    return articles


def vocabulary(articles: list[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """Words of each language's real articles, for headlines that differ like real ones."""
    words: dict[str, set[str]] = {}
    for lang, paragraphs in articles:
        for paragraph in paragraphs:
            words.setdefault(lang, set()).update(
                w for w in paragraph.split() if w.isalpha() and len(w) > 3
            )
    return {lang: sorted(found) for lang, found in words.items()}


def article(n: int, source: tuple[str, list[str]], words: list[str], rng: random.Random) -> str:
    lang, paragraphs = source
    body = paragraphs[:1] + rng.sample(paragraphs[1:], k=min(len(paragraphs) - 1, 8))
    lede = " ".join(rng.sample(words, k=rng.randint(7, 12)))
    body[0] = f"{lede[:1].upper()}{lede[1:]}. {body[0]}"
    place = rng.choice(PLACES)
    if rng.random() < 0.5:
        month = MONTHS[lang][rng.randrange(12)]
        day, year = rng.randint(1, 28), rng.randint(2005, 2024)
        date = f"{month} {day}, {year}" if lang == "en" else f"{day} {month} {year}"
        opening = f"{place}, {date} – "
    else:
        opening = f"{place} – "
    body[0] = opening + body[0]
    body.append(f"Archive note {n}: {rng.choice(paragraphs)[:120]}")
    lines = list(body)
    if rng.random() < 0.5:
        lines += ["", ""]
        for k in range(rng.randint(1, 3)):
            lines.append(
                f"![Related story {n}-{k}, {place} [Credit: Agency {k}]]"
                f"(https://example.org/img/{n}-{k}.jpg)"
            )
    return "\n".join(lines) + "\n"


def curated(n: int, name: str, rng: random.Random) -> str:
    tags = ", ".join(sorted(rng.sample(TAGS, k=2)))
    date = f"{rng.randint(2005, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return (
        f"---\nsource: seeds/{name}\ntitle: Curated headline number {n}\n"
        f"date: {date}\ntags: [{tags}]\n---\n"
    )


def with_images(site: Path) -> None:
    """Give every seed of `site` two images of its own in the site (`images/`, small JPEGs
    of distinct content), placed after its first and third paragraphs; then copy them into
    the media store as `newsgen images fetch` does."""
    from PIL import Image

    (site / "images").mkdir(exist_ok=True)
    for n, path in enumerate(sorted((site / "seeds").glob("*.txt"))):
        lines = path.read_text(encoding="utf-8").split("\n")
        for k, at in ((0, 1), (1, 4)):
            name = f"images/{n:06d}-{k}.jpg"
            colour = (n * 7 % 256, n // 256 % 256, 60 + 120 * k)
            Image.new("RGB", (480, 320), colour).save(site / name, quality=80)
            lines.insert(min(at, len(lines)), f"![Photo {n}-{k} [Credit: Staff]]({name})")
        path.write_text("\n".join(lines), encoding="utf-8")


def generate(count: int, site: Path) -> None:
    """Write `count` seeds (and ~5 % curated articles) into `site`, one file at a time (a
    million articles never sit in memory). Every CHECKPOINT articles the generator's state is
    saved beside them, so that a run killed half-way resumes where it was saved and writes the
    same bytes as one run would; `newsgen.yaml`, written last, marks the corpus complete. The
    first N articles of any corpus are the corpus of N."""
    sources = real_articles()
    words = vocabulary(sources)
    rng = random.Random(20261130)
    (site / "seeds").mkdir(parents=True, exist_ok=True)
    (site / "articles").mkdir(parents=True, exist_ok=True)
    start = resume(site, rng)
    for n in range(start, count):
        if n % CHECKPOINT == 0 and n != start:
            checkpoint(site, n, rng)
        name = f"{n:06d}_{n:016x}.txt"
        source = sources[n % len(sources)]
        text = article(n, source, words[source[0]], rng)
        (site / "seeds" / name).write_text(text, encoding="utf-8")
        if rng.random() < 0.05:
            (site / "articles" / f"curated-{n}.md").write_text(
                curated(n, name, rng), encoding="utf-8"
            )
    (site / "newsgen.yaml").write_text(
        "title: Benchmark archive\nbase_url: https://example.org/archive/\n", encoding="utf-8"
    )
    (site / PROGRESS).unlink(missing_ok=True)


CHECKPOINT = 10_000
PROGRESS = ".corpus-progress.json"


def checkpoint(site: Path, n: int, rng: random.Random) -> None:
    """Save that articles 0..n-1 are written and the generator's state before article n."""
    version, state, gauss = rng.getstate()
    temporary = site / (PROGRESS + ".tmp")
    temporary.write_text(json.dumps({"next": n, "state": [version, list(state), gauss]}))
    temporary.replace(site / PROGRESS)


def resume(site: Path, rng: random.Random) -> int:
    """The article to start from: 0, or the last checkpoint of an unfinished run (with `rng`
    set to its state)."""
    saved = site / PROGRESS
    if not saved.is_file():
        return 0
    progress = json.loads(saved.read_text())
    version, state, gauss = progress["state"]
    rng.setstate((version, tuple(state), gauss))
    print(f"corpus: resuming at article {progress['next']:,}", flush=True)
    return int(progress["next"])


if __name__ == "__main__":
    generate(int(sys.argv[1]), Path(sys.argv[2]))
