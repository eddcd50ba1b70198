"""An incremental build must never differ from a clean one, whatever edits came before it.

test_incremental checks one kind of change at a time. Here seeded pseudo-random sequences of
edits (seeds and curated articles changed, added, deleted, broken and fixed, emptied and
restored, reverted, touched; duplicate texts and colliding slugs made) are applied to one site
folder, and after every step its rebuild from the cache is compared with a clean build of a
copy of the same inputs: the same files with the same bytes, the same URL registry, the same
problems and the same counts. An incremental path that takes a shortcut (a delta rebuild of the
edited files only) must get every step of every sequence right.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from newsgen.build import BuildResult
from newsgen.urls import REGISTRY_NAME
from tests.conftest import SAMPLE, build_site
from tests.util import copy_inputs, differing, snapshot

SEEDS = (11, 22, 33)
"""One sequence of edits per seed of its random.Random; each is a test of its own."""
STEPS = 9
DECK_SEED = 1
"""Shuffles the kinds of edit; with it the sequences together make every kind (checked below)."""
FENCE = "---"
LEFT_OUT = (
    "seeds/000_162df40488afe4e4.txt",
    "seeds/001_93c79ed66b531a90.txt",
    "seeds/009_75c9443493efbe2e.txt",
    "seeds/014_b030cd6263d97787.txt",
)
"""Sample seeds a sequence does without: fewer pages make a step faster."""
ADDED = {
    "articles/nota-della-redazione.md": (
        "---\ntitle: Nota della redazione\ndate: 2021-03-01\nslug: nota-della-redazione\n"
        "tags: [redazione, archivio]\n---\n"
        "Roma – La redazione presenta ai lettori le novità dell'archivio di questo mese.\n\n"
        "Il secondo paragrafo racconta come sono state scelte le notizie. Sono poche.\n"
    ),
    "articles/lettere-dei-lettori.md": (
        "---\ntitle: Lettere dei lettori\nslug: lettere-dei-lettori\ntags: [lettere]\n---\n"
        "Milano – Molti lettori hanno scritto alla redazione nelle ultime settimane.\n\n"
        "Pubblichiamo una scelta delle lettere. Le altre restano in archivio.\n"
    ),
}
"""Curated articles that stand alone (with a body and a `slug:`), beside the sample's two
that curate a seed (`source:`)."""
CP1252 = "seeds/012_cp1252.txt"
CP1252_TEXT = (
    "Firenze – Il comune ha approvato il piano per la città. Più autobus in centro.\n\n"
    "La decisione è arrivata dopo un lungo dibattito. I lavori inizieranno in autunno.\n\n"
    "Le associazioni dei commercianti chiedono più parcheggi.\n"
)

SUBJECTS = ("Il sindaco", "La redazione", "Il ministero", "Un testimone", "La polizia")
VERBS = ("ha confermato", "ha smentito", "ha annunciato", "ha commentato")
OBJECTS = ("la notizia", "il rapporto", "la decisione", "il progetto")
TOPICS = ("Cronaca cittadina", "Notizie dal porto", "Il punto della settimana", "Voci dal mondo")
TAGS = ("cronaca", "politica", "esteri", "sport", "cultura", "redazione")
SLUG_WORDS = ("nota", "lettera", "cronaca", "rubrica", "dossier")


@dataclass
class Editor:
    """Edits one site folder, remembering every earlier text of each file it changed."""

    site: Path
    rng: random.Random
    count: int = 0
    history: dict[str, list[bytes]] = field(default_factory=dict)
    broken: dict[str, bytes] = field(default_factory=dict)  # curated file -> text to fix it
    emptied: dict[str, bytes] = field(default_factory=dict)  # seed -> text to restore

    def read(self, rel: str) -> bytes | None:
        path = self.site / rel
        return path.read_bytes() if path.is_file() else None

    def text(self, rel: str) -> str:
        data = self.read(rel)
        assert data is not None, rel
        return data.decode("utf-8", "surrogateescape")  # a Windows-1252 seed keeps its bytes

    def write(self, rel: str, data: bytes | str, *, remember: bool = True) -> str:
        new = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        old = self.read(rel)
        assert new != old, f"an edit of {rel} left it as it was"
        if old is not None and remember:
            self.history.setdefault(rel, []).append(old)
        (self.site / rel).write_bytes(new)
        return rel

    def remove(self, rel: str) -> str:
        self.history.setdefault(rel, []).append((self.site / rel).read_bytes())
        (self.site / rel).unlink()
        return rel

    def files(self, folder: str) -> list[str]:
        """The folder's files, but not one waiting to be fixed or restored."""
        names = sorted(p.name for p in (self.site / folder).iterdir() if p.is_file())
        return [f"{folder}/{n}" for n in names if f"{folder}/{n}" not in self.pending()]

    def pending(self) -> set[str]:
        return set(self.broken) | set(self.emptied)

    def unsourced(self) -> list[str]:
        """The seeds that no curated article names in `source:`."""
        sources = {front_value(self.text(a), "source") for a in self.files("articles")}
        return [s for s in self.files("seeds") if s not in sources]

    def choice(self, options: list[str]) -> str | None:
        return self.rng.choice(options) if options else None

    def sentence(self) -> str:
        self.count += 1
        r = self.rng
        return f"{r.choice(SUBJECTS)} {r.choice(VERBS)} {r.choice(OBJECTS)} numero {self.count}."

    def title(self) -> str:
        self.count += 1
        return f"{self.rng.choice(TOPICS)} {self.count}"


Edit = Callable[[Editor], str | None]
"""Makes one kind of edit and says what it did, or returns None (changing nothing) when the
site has nothing it applies to."""


# --- text ----------------------------------------------------------------------------------


def text_lines(text: str, first: int) -> list[int]:
    return [i for i, line in enumerate(text.split("\n")) if i >= first and line.strip()]


def change_sentence(ed: Editor, text: str, line: int, which: int | None = None) -> str:
    """`text` with one sentence of line number `line` replaced (the first when `which` is 0)."""
    lines = text.split("\n")
    parts = re.split(r"(?<=[.!?]) +", lines[line].strip())
    parts[ed.rng.randrange(len(parts)) if which is None else which] = ed.sentence()
    lines[line] = " ".join(parts)
    return "\n".join(lines)


def split_front(text: str) -> tuple[list[str], str]:
    lines = text.split("\n")
    assert lines[0] == FENCE
    end = lines.index(FENCE, 1)
    return lines[1:end], "\n".join(lines[end + 1 :])


def join_front(front: list[str], body: str) -> str:
    return "\n".join([FENCE, *front, FENCE, body])


def front_value(text: str, key: str) -> str | None:
    front, _ = split_front(text)
    found = [line.partition(":")[2].strip() for line in front if line.startswith(f"{key}:")]
    return found[0] if found else None


def set_front(text: str, key: str, value: str) -> str:
    front, body = split_front(text)
    kept = [line for line in front if not line.startswith(f"{key}:")]
    return join_front([*kept, f"{key}: {value}"], body)


# --- seeds ---------------------------------------------------------------------------------


def seed_sentence(ed: Editor) -> str | None:
    """A sentence on the second line or further down."""
    seed = ed.choice([s for s in ed.files("seeds") if text_lines(ed.text(s), 1)])
    if seed is None:
        return None
    text = ed.text(seed)
    return ed.write(seed, change_sentence(ed, text, ed.rng.choice(text_lines(text, 1))))


def seed_headline(ed: Editor) -> str | None:
    """The first sentence of the first line, which the headline comes from."""
    seed = ed.choice([s for s in ed.files("seeds") if 0 in text_lines(ed.text(s), 0)])
    return seed and ed.write(seed, change_sentence(ed, ed.text(seed), 0, which=0))


def append_paragraph(ed: Editor) -> str | None:
    """A paragraph at the end of a seed, or of a curated article (which, when it curates a
    seed, then replaces the seed's text)."""
    rel = ed.choice(ed.files("seeds") * 2 + ed.files("articles"))
    if rel is None:
        return None
    return ed.write(rel, ed.text(rel).rstrip("\n") + f"\n\n{ed.sentence()}\n")


def duplicate_seed(ed: Editor) -> str | None:
    """One seed's text made identical to another's (neither curated: a curated title would
    tell them apart)."""
    seeds = ed.unsourced()
    original = ed.choice(seeds)
    if original is None:
        return None
    copy = ed.choice([s for s in seeds if ed.read(s) != ed.read(original)])
    if copy is None:
        return None
    return ed.write(copy, ed.text(original)) + f" = {original}"


def edit_twin(ed: Editor) -> str | None:
    """A sentence changed in one of two identical seeds: each may be published again."""
    texts = {s: ed.read(s) for s in ed.files("seeds")}
    twins = [s for s, text in texts.items() if list(texts.values()).count(text) > 1]
    twin = ed.choice([s for s in twins if text_lines(ed.text(s), 1)])
    if twin is None:
        return None
    text = ed.text(twin)
    return ed.write(twin, change_sentence(ed, text, ed.rng.choice(text_lines(text, 1))))


def empty_seed(ed: Editor) -> str | None:
    seed = None if ed.emptied else ed.choice(ed.files("seeds"))
    if seed is None:
        return None
    ed.emptied[seed] = (ed.site / seed).read_bytes()
    return ed.write(seed, b"")


def restore_seed(ed: Editor) -> str | None:
    if not ed.emptied:
        return None
    seed, text = ed.emptied.popitem()
    return ed.write(seed, text, remember=False)


def add_seed(ed: Editor) -> str | None:
    name = f"seeds/{ed.rng.randrange(25):03d}_nuovo{ed.count:04d}.txt"
    text = f"Napoli – {ed.sentence()} {ed.sentence()}\n\n{ed.sentence()}\n"
    return ed.write(name, text)


def delete_seed(ed: Editor) -> str | None:
    seeds = ed.files("seeds")
    seed = ed.choice(seeds) if len(seeds) > 4 else None
    return seed and ed.remove(seed)


# --- curated articles ----------------------------------------------------------------------


def with_body(ed: Editor) -> list[str]:
    return [a for a in ed.files("articles") if split_front(ed.text(a))[1].strip()]


def curated_body(ed: Editor) -> str | None:
    article = ed.choice(with_body(ed))
    if article is None:
        return None
    front, body = split_front(ed.text(article))
    body = change_sentence(ed, body, ed.rng.choice(text_lines(body, 0)))
    return ed.write(article, join_front(front, body))


def set_field(ed: Editor, key: str, value: str) -> str | None:
    article = ed.choice([a for a in ed.files("articles") if front_value(ed.text(a), key) != value])
    return article and ed.write(article, set_front(ed.text(article), key, value))


def curated_title(ed: Editor) -> str | None:
    return set_field(ed, "title", ed.title())


def curated_tags(ed: Editor) -> str | None:
    tags = ed.rng.sample(TAGS, ed.rng.randint(1, 3))
    return set_field(ed, "tags", "[" + ", ".join(tags) + "]")


def curated_date(ed: Editor) -> str | None:
    r = ed.rng
    return set_field(ed, "date", dt.date(r.randint(2005, 2022), r.randint(1, 12), 9).isoformat())


def curated_slug(ed: Editor) -> str | None:
    ed.count += 1
    return set_field(ed, "slug", f"{ed.rng.choice(SLUG_WORDS)}-{ed.count}")


def curated_source(ed: Editor) -> str | None:
    """`source:` pointed at another seed (which may be curated already)."""
    article = ed.choice([a for a in ed.files("articles") if front_value(ed.text(a), "source")])
    if article is None:
        return None
    source = front_value(ed.text(article), "source")
    seed = ed.choice([s for s in ed.files("seeds") if s != source])
    return seed and ed.write(article, set_front(ed.text(article), "source", seed)) + f" = {seed}"


def given_slug(ed: Editor) -> tuple[str, str] | None:
    """A curated article that states its `slug:`, and that slug."""
    slugs = {a: front_value(ed.text(a), "slug") for a in ed.files("articles")}
    owner = ed.choice([a for a, s in slugs.items() if s])
    return (owner, str(slugs[owner])) if owner else None


def slug_collision(ed: Editor) -> str | None:
    """The `slug:` of one curated article given to another."""
    given = given_slug(ed)
    if given is None:
        return None
    owner, slug = given
    other = ed.choice([a for a in ed.files("articles") if front_value(ed.text(a), "slug") != slug])
    return other and ed.write(other, set_front(ed.text(other), "slug", slug)) + f" = {owner}"


def headline_collision(ed: Editor) -> str | None:
    """A seed's new headline makes the slug a curated article states."""
    given = given_slug(ed)
    seed = ed.choice([s for s in ed.unsourced() if ed.text(s).strip()])
    if given is None or seed is None:
        return None
    headline = given[1].replace("-", " ").capitalize()
    return ed.write(seed, f"{headline}\n\n{ed.text(seed)}") + f" = {given[0]}"


def break_front_matter(ed: Editor) -> str | None:
    article = None if ed.broken else ed.choice(ed.files("articles"))
    if article is None:
        return None
    text = ed.text(article)
    ed.broken[article] = (ed.site / article).read_bytes()
    front, body = split_front(text)
    return ed.write(article, join_front(['titolo: "virgolette mai chiuse', *front], body))


def fix_front_matter(ed: Editor) -> str | None:
    if not ed.broken:
        return None
    article, text = ed.broken.popitem()
    return ed.write(article, text, remember=False)


# --- any file ------------------------------------------------------------------------------


def two_files(ed: Editor) -> str | None:
    """A seed and a curated article changed in the same step."""
    first = any_of(ed, [seed_sentence, seed_headline])
    if first is None:
        return None
    second = any_of(ed, [curated_body, curated_title, curated_tags, curated_date])
    assert second, "no curated article to change"
    return f"{first} + {second}"


def any_of(ed: Editor, edits: list[Edit]) -> str | None:
    """The first of `edits`, in a random order, that applies."""
    for edit in ed.rng.sample(edits, len(edits)):
        done = edit(ed)
        if done:
            return done
    return None


def revert(ed: Editor) -> str | None:
    """A file back to a text it had before (a deleted seed comes back)."""
    earlier = {
        rel: [v for v in dict.fromkeys(versions) if v != ed.read(rel)]
        for rel, versions in sorted(ed.history.items())
        if rel not in ed.pending()
    }
    rel = ed.choice([rel for rel, versions in earlier.items() if versions])
    if rel is None:
        return None
    version = ed.rng.randrange(len(earlier[rel]))
    return ed.write(rel, earlier[rel][version]) + f" to text {version}"


def touch(ed: Editor) -> str | None:
    """A new modification time, the same bytes."""
    rel = ed.choice(ed.files("seeds") + ed.files("articles"))
    if rel is None:
        return None
    stat = (ed.site / rel).stat()
    os.utime(ed.site / rel, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    return rel


EDITS: dict[str, Edit] = {
    edit.__name__: edit
    for edit in (
        seed_sentence,
        seed_headline,
        append_paragraph,
        duplicate_seed,
        edit_twin,
        empty_seed,
        restore_seed,
        add_seed,
        delete_seed,
        curated_body,
        curated_title,
        curated_tags,
        curated_date,
        curated_slug,
        curated_source,
        slug_collision,
        headline_collision,
        break_front_matter,
        fix_front_matter,
        two_files,
        revert,
        touch,
    )
}


# --- sequences -----------------------------------------------------------------------------


AGAIN = ("seed_sentence", "seed_sentence", "append_paragraph")
"""Edits that move no article, dealt more than once: they are the ones a rebuild may make by
keeping the last plan and redoing only the pages that show the edited articles."""


def deck(index: int) -> list[str]:
    """The kinds of edit in the order sequence `index` tries them: one shuffled deck, each
    sequence starting a third further into it, so that together they make every kind."""
    kinds = sorted([*EDITS, *AGAIN])
    random.Random(DECK_SEED).shuffle(kinds)
    start = index * len(kinds) // len(SEEDS)
    return kinds[start:] + kinds[:start]


FOLLOW_UPS = {
    break_front_matter.__name__: fix_front_matter.__name__,
    empty_seed.__name__: restore_seed.__name__,
    duplicate_seed.__name__: edit_twin.__name__,
}
"""Kinds of edit that only apply after another: they are dealt one to three steps after it."""


def edit_sequence(site: Path, index: int) -> Iterator[str]:
    """Makes the edits of sequence `index`, one step at a time, and says what each did. A
    step makes the first kind left in the deck that applies (fixing needs something broken),
    and deals its follow-up (FOLLOW_UPS) one to three steps later, unless the sequence ends
    first."""
    ed = Editor(site, random.Random(SEEDS[index]))
    kinds = deck(index)
    for _ in range(STEPS):
        yield make_one(ed, kinds)


def make_one(ed: Editor, kinds: list[str]) -> str:
    """Makes the first kind of edit in `kinds` that applies, and takes it out."""
    for kind in kinds:
        done = EDITS[kind](ed)
        if done:
            kinds.remove(kind)
            if kind in FOLLOW_UPS and FOLLOW_UPS[kind] in kinds:
                kinds.remove(FOLLOW_UPS[kind])
                kinds.insert(ed.rng.randrange(3), FOLLOW_UPS[kind])
            return f"{kind}: {done}"
    raise AssertionError(f"none of {kinds} applies")


def new_site(site: Path) -> Path:
    """Part of the sample (seven seeds in four languages, two of them curated), ADDED, and
    two inputs that warn on every build: a seed in Windows-1252 and a `slug:` that is no plain
    URL name. A rebuild of only the edited articles must keep their warnings right."""
    shutil.copytree(SAMPLE, site)
    for name in LEFT_OUT:
        (site / name).unlink()
    for name, text in ADDED.items():
        (site / name).write_text(text, encoding="utf-8")
    (site / CP1252).write_bytes(CP1252_TEXT.encode("cp1252"))
    curated = site / "articles" / "camfranglais-forum.md"
    curated.write_text(set_front(curated.read_text("utf-8"), "slug", "Forum Camfranglais"), "utf-8")
    return site


# --- comparing builds ----------------------------------------------------------------------


def outputs(site: Path, output: Path) -> dict[str, bytes]:
    """Every file a build wrote: the output folder and the URL registry in the site."""
    files = snapshot(output)
    registry = site / REGISTRY_NAME
    files[f"<site>/{REGISTRY_NAME}"] = registry.read_bytes() if registry.is_file() else b""
    return files


def summary(result: BuildResult) -> tuple[int, int, list[str]]:
    problems = sorted(f"{p.level}: {p}" for p in result.problems)
    return result.articles, result.pages, problems


def rebuild_and_compare(site: Path, clean: Path, log: list[str]) -> BuildResult:
    """The rebuild, checked against a clean build. The copy is made before the rebuild, so
    that both builds read the same URL registry (each then rewrites its own, and those are
    compared too)."""
    copy_inputs(site, clean)
    config, result = build_site(site)
    clean_config, expected = build_site(clean)
    steps = "\n".join(f"  {n}. {done}" for n, done in enumerate(log, start=1))
    where = f"incremental build differs from a clean one after:\n{steps}"
    got, want = outputs(site, config.output_dir), outputs(clean, clean_config.output_dir)
    assert differing(got, want) == [], where
    assert summary(result) == summary(expected), where
    return result


# --- tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(SEEDS)), ids=[f"seed{s}" for s in SEEDS])
def test_every_rebuild_in_a_sequence_of_edits_equals_a_clean_build(
    index: int, tmp_path: Path
) -> None:
    site = new_site(tmp_path / "site")
    build_site(site)
    log: list[str] = []
    kept_plan = 0
    for step, done in enumerate(edit_sequence(site, index)):
        log.append(done)
        result = rebuild_and_compare(site, tmp_path / f"clean{step}", log)
        if result.kept_plan and result.written:
            kept_plan += 1
        shutil.rmtree(tmp_path / f"clean{step}")
    # The sequence must still test the rebuild that keeps the last plan (newsgen.delta).
    assert kept_plan > 0, "no rebuild in this sequence kept the plan"


def test_the_sequences_make_every_kind_of_edit(tmp_path: Path) -> None:
    """Edits do not depend on builds, so the sequences are replayed here without any."""
    made = set()
    for index in range(len(SEEDS)):
        site = new_site(tmp_path / f"site{index}")
        made |= {done.partition(":")[0] for done in edit_sequence(site, index)}
    assert made == set(EDITS)
