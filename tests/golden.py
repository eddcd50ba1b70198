"""The golden HTML of the seed article page.

After an intended change of output, regenerate it and review the diff:

    .venv/bin/python -m tests.golden
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from newsgen.build import build
from newsgen.config import load_config

HERE = Path(__file__).resolve().parent
SEED = HERE.parent / "seeds" / "000_4c3b1bedbc3a3e95.txt"
GOLDEN = HERE / "golden" / "seed-article.html"


def seed_page(workdir: Path) -> str:
    """Build the seed alone, with the default settings, and return its article page."""
    site = workdir / "site"
    (site / "seeds").mkdir(parents=True)
    shutil.copyfile(SEED, site / "seeds" / SEED.name)
    config = load_config(site)
    build(config, jobs=1)
    pages = sorted((config.output_dir / "articles").glob("*/index.html"))
    if len(pages) != 1:
        raise RuntimeError(f"expected one article page, found {len(pages)}")
    return pages[0].read_text(encoding="utf-8")


def main() -> int:
    os.environ.pop("SOURCE_DATE_EPOCH", None)  # the golden file is built as the tests build it
    with tempfile.TemporaryDirectory() as tmp:
        GOLDEN.write_text(seed_page(Path(tmp)), encoding="utf-8")
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
