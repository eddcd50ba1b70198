"""Editorial commands that write sources, never output: `init` (a new site, ready to publish
on GitHub Pages), `new` (a draft article), `import` (curated files over seeds, for editors to
correct).

Nothing here overwrites a file unless asked: existing files are refused or skipped, and
each refusal says what to do instead.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from newsgen import __version__, write
from newsgen.collect import Unreadable, read_source
from newsgen.config import CONFIG_NAME, Config
from newsgen.enrich import enrich
from newsgen.load import pair_curated, parse_curated, parse_seed
from newsgen.records import Article, Draft, Problem
from newsgen.result import is_loopback, url_host
from newsgen.slugs import make_slug
from newsgen.theme import THEME


class ScaffoldError(Exception):
    """A command cannot go ahead; the message says why and what to do."""


# --- init -----------------------------------------------------------------------------------

_SETTINGS = {
    "title": "The site's name: in the header, the feeds and every page's metadata.",
    "base_url": "The public address of the site, with its path if it lives under one\n"
    "(https://example.org/archive/). Links, feeds and the sitemap are made from it.",
    "language": "Language of the interface, and of articles whose language cannot be told.",
    "timezone": "IANA time zone of dates given with a time, and of `newsgen new`.",
    "per_page": "Articles on each listing page.",
    "feed_size": "Entries in each Atom feed.",
    "search": "Full-text search: the index, the /search/ page and the box in every header.",
    "seeds": "Folders, relative to this file: scraped seed texts, curated Markdown articles,\n"
    "templates that override the packaged theme, and the built site.",
    "max_file_mb": "A seed or article larger than this many megabytes is skipped unread.",
    "media": "Folder of the mirrored images (`newsgen images fetch` fills it; commit it).",
    "remote_images": "An image not mirrored yet: `link` shows it from its own host, `omit`\n"
    "leaves it out and keeps its caption.",
    "allow_hosts": "Hosts `newsgen images fetch` may reach although they resolve to this\n"
    "machine or a private network (by name).",
    "max_image_mb": "An image larger than this many megabytes is not mirrored.",
    "compress": "Precompressed .gz (and .br) copies beside the text files, for hosts that\n"
    "serve them as they are (nginx's gzip_static, an S3 bucket).",
    "headers": "Headers added to build/_headers, by URL pattern, such as\n"
    "{'/*': {'X-Robots-Tag': 'noindex'}}.",
    "csp": "Sources the Content-Security-Policy allows beyond the site's own, by directive.",
}
LOCAL_BASE = (
    "http://localhost:8000/ is this machine: right for `newsgen serve`, wrong for a published\n"
    "site (`newsgen build` says so, `newsgen check` fails): set the site's public address."
)
# Settings whose value is a mapping: none set is written `{}`, which their check reads.
_MAPPINGS = frozenset({"headers", "csp"})
PYTHON = "3.12"
REQUIREMENTS = "requirements.txt"
WORKFLOW = ".github/workflows/pages.yml"


def config_text(defaults: Config) -> str:
    """newsgen.yaml for a new site: every setting at its default, each explained."""
    lines = [
        "# newsgen site settings. Every key is optional: delete a line to use its default.",
        "# An unknown key is reported with the nearest valid one.",
    ]
    for f in fields(defaults):
        if f.name == "root":
            continue
        value = getattr(defaults, f.name)
        explained = _SETTINGS.get(f.name, "")
        if f.name == "base_url" and is_loopback(url_host(value)):
            explained += "\n" + LOCAL_BASE
        if explained:
            lines += ["", *(f"# {line}" for line in explained.split("\n"))]
        lines.append(_yaml_line(f.name, {} if f.name in _MAPPINGS and not value else value))
    return "\n".join(lines) + "\n"


def requirements_text() -> str:
    """requirements.txt for a new site: the newsgen that made it, pinned where a CI runner can
    install it from (see `pinned_newsgen`)."""
    line, note = pinned_newsgen()
    return "\n".join(
        [
            "# What the site's build installs (`python -m pip install -r requirements.txt`, as",
            "# .github/workflows/pages.yml does): newsgen, pinned so that every build is made",
            "# by the same version. Change the pin to upgrade.",
            *(f"# {text}" for text in note.split("\n") if note),
            line,
            "",
        ]
    )


def pinned_newsgen() -> tuple[str, str]:
    """The requirement that installs this very newsgen, and a note when a runner cannot
    (see `pin_from`)."""
    try:
        found = importlib.metadata.distribution("newsgen").read_text("direct_url.json")
        origin = json.loads(found) if found else None
    except (importlib.metadata.PackageNotFoundError, ValueError):
        origin = None
    return pin_from(origin if isinstance(origin, dict) else None)


def pin_from(origin: dict[str, Any] | None, version: str = __version__) -> tuple[str, str]:
    """(requirement, note) from where pip recorded newsgen was installed (PEP 610's
    direct_url.json, None when it came from a package index): a VCS commit or a download
    URL as they are; else the version, with a note when it came from this machine."""
    url = str((origin or {}).get("url", ""))
    vcs = (origin or {}).get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("commit_id") and not url.startswith("file:"):
        return f"newsgen @ {vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}", ""
    if url.startswith("https://"):
        return f"newsgen @ {url}", ""
    pin = f"newsgen=={version}"
    if not url:
        return pin, ""
    return pin, (
        f"This newsgen was installed from {url}, which a CI runner cannot reach. Unless\n"
        f"newsgen {version} is on the package index, replace the line below with a git\n"
        "URL (newsgen @ git+https://example.org/newsgen.git@v0.1.0) or a wheel committed\n"
        "with the site (./wheels/newsgen-0.1.0-py3-none-any.whl): see Publishing in the manual."
    )


def workflow_text() -> str:
    """.github/workflows/pages.yml: build, check and publish the site on GitHub Pages at every
    push to main, with the build cache kept between runs."""
    cache_key = "newsgen-${{ runner.os }}-${{ hashFiles('requirements.txt') }}-"
    return f"""\
# Builds the site with newsgen at every push to main and publishes build/ on GitHub Pages.
# Once, in the repository's Settings > Pages: Build and deployment, Source: GitHub Actions.
# The site's address is the one Pages gives it (its custom domain, if it has one): it
# overrides base_url in newsgen.yaml.
name: Publish on GitHub Pages

on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{PYTHON}"
          cache: pip
          cache-dependency-path: {REQUIREMENTS}
      - id: pages
        uses: actions/configure-pages@v5
      # The build cache (.newsgen/): a push re-reads only the files it changed. A new key
      # each run (caches cannot be replaced); the newest one is restored.
      - uses: actions/cache@v4
        with:
          path: .newsgen
          key: {cache_key}${{{{ github.sha }}}}
          restore-keys: {cache_key}
      - name: Install
        run: python -m pip install -r {REQUIREMENTS}
      - name: Build
        run: newsgen build --base-url "$PAGES_URL"
        env:
          PAGES_URL: ${{{{ steps.pages.outputs.base_url }}}}
      - name: Check
        run: newsgen check --base-url "$PAGES_URL"
        env:
          PAGES_URL: ${{{{ steps.pages.outputs.base_url }}}}
      - name: URLs committed
        run: |
          {URLS_STEP}
      - uses: actions/upload-pages-artifact@v3
        with:
          path: build
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""


# The site's URL registry, when the build added to it: a warning, not a failure (the site
# published is right; only the redirects of a later rename need the URLs committed).
URLS_STEP = (
    'test -z "$(git status --porcelain -- urls.yaml)" || echo "::warning file=urls.yaml::'
    "The build recorded new URLs: build where you edit the site and commit urls.yaml, or an "
    'article renamed later loses its old URL."'
)


def templates_readme(theme: Path = THEME) -> str:
    """How to override the packaged theme, listing the files that can be overridden."""
    templates = sorted(
        p.relative_to(theme / "templates").as_posix()
        for p in (theme / "templates").rglob("*")
        if p.is_file()
    )
    statics = sorted(
        p.relative_to(theme / "static").as_posix()
        for p in (theme / "static").rglob("*")
        if p.is_file()
    )
    return "\n".join(
        [
            "# Templates",
            "",
            "This folder overrides newsgen's default theme, which ships inside the newsgen",
            "package. A file here replaces the theme's file of the same name; everything else",
            "comes from the theme. Templates are Jinja2, with autoescaping and StrictUndefined.",
            "",
            "To change one, copy it from the theme and edit the copy. The theme is in:",
            "",
            '    python -c "import newsgen, pathlib; '
            "print(pathlib.Path(newsgen.__file__).parent / 'theme')\"",
            "",
            "For example, `templates/partials/footer.html` here replaces the theme's footer.",
            "Static files go in `templates/static/` and are copied to the site's root:",
            "`templates/static/assets/style.css` replaces the theme's stylesheet.",
            "",
            "Theme templates:",
            "",
            *(f"- `{name}`" for name in templates),
            "",
            "Theme static files (in `static/`):",
            "",
            *(f"- `{name}`" for name in statics),
            "",
        ]
    )


def init_site(root: Path, base_url: str | None = None) -> list[str]:
    """A new site in `root` (created, or empty): settings (with `base_url`, already checked,
    when given), source folders, a templates README, a .gitignore, the pinned newsgen and a
    GitHub Pages workflow. Returns what was made, relative to `root`."""
    if root.exists() and not root.is_dir():
        raise ScaffoldError(f"{root} is a file; give a new or empty folder")
    if root.is_dir() and any(p.name != ".git" for p in root.iterdir()):
        raise ScaffoldError(f"{root} is not empty; give a new or empty folder")
    defaults = Config(root=root)
    defaults = replace(defaults, base_url=base_url) if base_url else defaults
    files = {
        CONFIG_NAME: config_text(defaults),
        f"{defaults.templates}/README.md": templates_readme(),
        ".gitignore": "# Made again by `newsgen build`: the built site and the build cache.\n"
        f"/{defaults.output}/\n/.newsgen/\n",
        REQUIREMENTS: requirements_text(),
        WORKFLOW: workflow_text(),
    }
    for folder in (defaults.seeds, defaults.articles, defaults.templates):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write.write_atomic(root / name, text.encode())
    made = [CONFIG_NAME, f"{defaults.seeds}/", f"{defaults.articles}/"]
    return made + [name for name in files if name != CONFIG_NAME]


# --- new ------------------------------------------------------------------------------------

NEW_BODY = "Write the article here. It stays unpublished while `draft: true` is set."


def new_article_text(title: str, date: dt.datetime, slug: str | None = None) -> str:
    """Front matter for a new draft, and a line of body to replace."""
    lines = [
        "---",
        _yaml_line("title", title),
        f"date: {date.replace(microsecond=0).isoformat()}",
        "draft: true",
        "tags: []",
        *([_yaml_line("slug", slug)] if slug else []),
        "---",
        "",
        NEW_BODY,
    ]
    return "\n".join(lines) + "\n"


def new_article(config: Config, title: str, *, slug: str | None = None) -> Path:
    """Write `articles/<slug>.md` for a new draft dated now in the site's time zone.
    Refuses to replace an existing file."""
    name = make_slug(slug or title)
    if not name:
        raise ScaffoldError(f"'{title}' gives no file name; choose one with --slug")
    folder = config.source_dir("articles")
    path = folder / f"{name}.md"
    now = dt.datetime.now(zoneinfo.ZoneInfo(config.timezone))
    text = new_article_text(" ".join(title.split()), now, name if slug else None)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise ScaffoldError(
            f"{site_path(config, path)} already exists; choose another title, or a file "
            "name with --slug"
        ) from None
    return path


# --- import ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Imported:
    """One seed's outcome: the file written, or why it was skipped."""

    seed: str
    file: str | None = None
    skipped: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    imported: tuple[Imported, ...]
    problems: tuple[Problem, ...]


def import_seeds(config: Config, names: Sequence[str] = (), *, force: bool = False) -> ImportReport:
    """For each seed (every seed when `names` is empty), write an `articles/` file holding
    what newsgen derived from it and `source:` naming it, so that an editor can correct the
    fields. A seed that already has such a file is skipped, unless `force`."""
    seeds = [site_path(config, p) for p in find_seeds(config, names)]
    curated, problems = _curated(config)
    pairs, _, _ = pair_curated(seeds, curated)
    used = {site_path(config, p) for p in config.source_dir("articles").glob("*")}
    results: list[Imported] = []
    for seed in seeds:
        existing = pairs.get(seed)
        if existing is not None and not force:
            why = f"already curated by {existing.path}; use --force to replace it"
            results.append(Imported(seed=seed, skipped=why))
            continue
        article, found = derive(config, seed)
        problems += found
        if article is None:
            results.append(Imported(seed=seed, skipped="cannot be read; see above"))
            continue
        target = existing.path if existing else _free_name(config, article.slug, used)
        used.add(target)
        write.write_atomic(config.root / target, curated_text(article, seed).encode())
        results.append(Imported(seed=seed, file=target))
    return ImportReport(imported=tuple(results), problems=tuple(problems))


def find_seeds(config: Config, names: Sequence[str]) -> list[Path]:
    """The named seed files (all of them when none is named), in file order. Every name
    must be a `.txt` file of the seeds folder: a path, or a name inside that folder."""
    folder = config.source_dir("seeds")
    if not names:
        return sorted(p for p in folder.glob("*.txt") if p.is_file())
    found: list[Path] = []
    missing: list[str] = []
    for name in names:
        candidates = (Path(name), folder / name, config.root / name)
        match = next((c for c in candidates if _is_seed(c, folder)), None)
        if match is None:
            missing.append(name)
        elif match.resolve() not in found:
            found.append(match.resolve())
    if missing:
        seeds = site_path(config, folder)
        raise ScaffoldError(
            "; ".join(f"{m}: no such seed in {seeds}/" for m in missing) + "; nothing imported"
        )
    return found


def _is_seed(path: Path, folder: Path) -> bool:
    return path.suffix == ".txt" and path.is_file() and path.resolve().parent == folder


def _curated(config: Config) -> tuple[list[Draft], list[Problem]]:
    drafts: list[Draft] = []
    problems: list[Problem] = []
    for path in sorted(config.source_dir("articles").glob("*.md")):
        name = site_path(config, path)
        try:
            data = read_source(str(path), config.max_file_bytes, config.max_file_mb)
        except Unreadable as exc:
            problems.append(Problem(path=name, level="error", message=exc.why))
            continue
        draft, found = parse_curated(name, data)
        problems += [p for p in found if p.level == "error"]
        if draft is not None:
            drafts.append(draft)
    return drafts, problems


def derive(config: Config, seed: str) -> tuple[Article | None, list[Problem]]:
    """What a build derives from the seed alone (no curated fields)."""
    try:
        data = read_source(str(config.root / seed), config.max_file_bytes, config.max_file_mb)
    except Unreadable as exc:
        return None, [Problem(path=seed, level="error", message=exc.why)]
    draft, problems = parse_seed(seed, data)
    if draft is None:
        return None, problems
    enriched = enrich(draft, default_lang=config.language, timezone=config.timezone)
    return enriched.article, problems


def _free_name(config: Config, slug: str, used: set[str]) -> str:
    folder = site_path(config, config.source_dir("articles"))
    name, n = f"{folder}/{slug}.md", 2
    while name in used:
        name, n = f"{folder}/{slug}-{n}.md", n + 1
    return name


def curated_text(article: Article, seed: str) -> str:
    """Front matter over `seed` with the derived fields; no body, so the text stays in the
    seed. Fields newsgen could not find are left empty, with a hint."""
    lines = [
        "---",
        f"# Curates {seed}: correct these fields; the text stays in the seed.",
        _yaml_line("source", seed),
        _yaml_line("title", article.title),
        _yaml_line("date", article.date) if article.date else "date:  # none found: add one",
        _yaml_line("dateline", article.dateline)
        if article.dateline
        else "dateline:  # none found: add the place, if there is one",
        _yaml_line("lang", article.lang),
        _yaml_line("summary", article.summary),
        "---",
    ]
    return "\n".join(lines) + "\n"


# --- helpers --------------------------------------------------------------------------------


def _yaml_line(key: str, value: Any) -> str:
    """`key: value`, quoted only when YAML needs it."""
    return yaml.safe_dump({key: value}, allow_unicode=True, width=1_000_000).rstrip("\n")


def site_path(config: Config, path: Path) -> str:
    """`path` relative to the site, with forward slashes, as problems name files."""
    try:
        return path.absolute().relative_to(config.root).as_posix()
    except ValueError:
        return path.as_posix()
