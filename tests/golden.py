"""Golden output of the seed built alone: its article page, the front page that lists it, its
place page, the Atom feed and the sitemap. A reviewed artefact, never rewritten silently.

After a change of output, see what changed, and accept it once reviewed:

    .venv/bin/python -m tests.golden           # the diff of every golden file; writes nothing
    .venv/bin/python -m tests.golden --accept  # writes the files as built now
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from newsgen.build import build
from newsgen.config import load_config

HERE = Path(__file__).resolve().parent
SEED = HERE.parent / "seeds" / "000_4c3b1bedbc3a3e95.txt"
GOLDEN_DIR = HERE / "golden"
GOLDEN = GOLDEN_DIR / "seed-article.html"
# Golden file -> the built file it holds, relative to the output folder ("*" is the article's
# slug, found by glob: one article, one match).
PAGES = {
    "seed-article.html": "articles/*/index.html",
    "front-page.html": "index.html",
    "place-page.html": "places/*/index.html",
    "feed.xml": "feed.xml",
    "sitemap.xml": "sitemap.xml",
}


def seed_site(workdir: Path) -> dict[str, str]:
    """Build the seed alone, with the default settings; every golden file's text as built."""
    site = workdir / "site"
    (site / "seeds").mkdir(parents=True)
    shutil.copyfile(SEED, site / "seeds" / SEED.name)
    config = load_config(site)
    build(config, jobs=1)
    built = {}
    for name, pattern in PAGES.items():
        found = sorted(config.output_dir.glob(pattern))
        if len(found) != 1:
            raise RuntimeError(f"expected one file for {pattern}, found {len(found)}")
        built[name] = found[0].read_text(encoding="utf-8")
    return built


def seed_page(workdir: Path) -> str:
    """The seed's article page, built alone with the default settings."""
    return seed_site(workdir)["seed-article.html"]


def differences(name: str, built: str) -> str:
    """A unified diff from the golden file `name` to `built` ("" when they are the same)."""
    path = GOLDEN_DIR / name
    golden = path.read_text(encoding="utf-8") if path.is_file() else ""
    return "".join(
        difflib.unified_diff(
            golden.splitlines(keepends=True),
            built.splitlines(keepends=True),
            f"tests/golden/{name}",
            "built now",
        )
    )


def main(argv: list[str]) -> int:
    accept = argv == ["--accept"]
    if argv and not accept:
        print("usage: python -m tests.golden [--accept]", file=sys.stderr)
        return 2
    os.environ.pop("SOURCE_DATE_EPOCH", None)  # the golden files are built as the tests build them
    with tempfile.TemporaryDirectory() as tmp:
        built = seed_site(Path(tmp))
    changed = [name for name, text in built.items() if differences(name, text)]
    for name in changed:
        print(differences(name, built[name]))
        if accept:
            (GOLDEN_DIR / name).write_text(built[name], encoding="utf-8")
    if not changed:
        print("the golden files are up to date")
    elif accept:
        print(f"wrote {', '.join(changed)}")
    else:
        print(f"{len(changed)} golden files differ; after review: python -m tests.golden --accept")
    return 0 if accept or not changed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
