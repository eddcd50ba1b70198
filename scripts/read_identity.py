"""Check that a change to loading or enrichment leaves every record as it was.

    PYTHONPATH=OLD_CHECKOUT .venv/bin/python scripts/read_identity.py dump before.pickle SITE...
    .venv/bin/python scripts/read_identity.py dump after.pickle SITE...
    .venv/bin/python scripts/read_identity.py compare before.pickle after.pickle

`dump` records, for each SITE folder (seeds/*.txt, articles/*.md), the repr of every parsed
seed and curated file with its problems, of the curated/seed pairing, and of every unit (seeds
merged with the curated file over them, curated articles alone) with its Enriched record,
detected languages included, for the default languages 'en' and 'it'. A SITE named `corpus:DIR`
is a corpus folder with a MANIFEST.tsv (see parse_quality.py): each file is read in the layouts
parse_quality uses, and each of its paragraphs alone. Run it once with the old code first on
PYTHONPATH (`git worktree add` or `git archive` of the base commit), once with the new.
"""

from __future__ import annotations

import csv
import pickle
import sys
from pathlib import Path

from newsgen.enrich import enrich
from newsgen.load import merge, pair_curated, parse_curated, parse_seed

Records = dict[tuple[str, ...], str]
RELATED = (
    "\n![Valdis Dombrovskis, 12/12/25 [Credit: Council of the EU]](https://example.org/a.jpg)\n"
    "![Il ministro [foto: Wikimedia Commons]](https://example.org/b.png)\n"
)


def site(root: Path, records: Records) -> None:
    name = str(root)
    seeds = {
        f"seeds/{p.name}": parse_seed(f"seeds/{p.name}", p.read_bytes())
        for p in sorted(root.glob("seeds/*.txt"))
    }
    curated = []
    for file in sorted(root.glob("articles/*.md")):
        draft, problems = parse_curated(f"articles/{file.name}", file.read_bytes())
        records[(name, "curated", file.name)] = repr((draft, problems))
        curated += [draft] if draft else []
    pairs, alone, problems = pair_curated(seeds, curated)
    records[(name, "pairs")] = repr((sorted(pairs.items()), alone, problems))
    units = [(p, merge(d, pairs[p]) if p in pairs else d) for p, (d, _) in seeds.items() if d]
    units += [(d.path, d) for d in alone]
    for path, (draft, problems) in seeds.items():
        records[(name, "seed", path)] = repr((draft, problems))
    for lang in ("en", "it"):
        for path, unit in units:
            enriched = enrich(unit, default_lang=lang, timezone="Europe/Rome")
            records[(name, "unit", lang, path)] = repr((unit, enriched))


def corpus(folder: Path, records: Records) -> None:
    with (folder / "MANIFEST.tsv").open(encoding="utf-8") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    for row in rows:
        text = (folder / row["file"]).read_text(encoding="utf-8")
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
        seed_style = "\n".join(paragraphs) + "\n" + RELATED
        bodies = {
            "blank-line": text,
            "seed-style": seed_style,
            "titled blank-line": f"{row['original_title']}\n\n{text}",
            "titled seed-style": f"{row['original_title']}\n\n{seed_style}",
        }
        bodies |= {f"paragraph {i}": p for i, p in enumerate(paragraphs)}
        for layout, body in bodies.items():
            draft, problems = parse_seed(row["file"], body.encode())
            enriched = enrich(draft, default_lang="en", timezone="UTC") if draft else None
            records[(str(folder), layout, row["file"])] = repr((draft, problems, enriched))


def dump(out: Path, sites: list[str]) -> None:
    records: Records = {}
    for where in sites:
        if where.startswith("corpus:"):
            corpus(Path(where.removeprefix("corpus:")), records)
        else:
            site(Path(where), records)
    out.write_bytes(pickle.dumps(records))
    print(f"{len(records)} records")


def compare(before: Path, after: Path) -> int:
    old: Records = pickle.loads(before.read_bytes())
    new: Records = pickle.loads(after.read_bytes())
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    print(f"{len(old)} records before, {len(new)} after, {len(changed)} different")
    for key in changed[:20]:
        print(f"{key}:\n  before {old.get(key)}\n  after  {new.get(key)}")
    return 1 if changed else 0


if __name__ == "__main__":
    command, first, *rest = sys.argv[1:]
    if command == "dump":
        dump(Path(first), rest)
    else:
        sys.exit(compare(Path(first), Path(rest[0])))
