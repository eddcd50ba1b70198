"""Where a site's templates and static files come from, and what the templates know of the
site: light enough for a build that renders nothing (no Jinja import)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from newsgen import __version__

THEME = Path(str(resources.files("newsgen") / "theme"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """What every template may know about the site."""

    title: str
    base_url: str
    base_path: str
    language: str
    build_time: dt.datetime
    search: bool = True  # the site has a search page (and every header a search box)


def template_dirs(site_templates: Path) -> list[Path]:
    """The site's own templates win over the packaged theme."""
    dirs = [site_templates] if site_templates.is_dir() else []
    return [*dirs, THEME / "templates"]


def static_dirs(site_templates: Path) -> list[Path]:
    return [d for d in (site_templates / "static", THEME / "static") if d.is_dir()]


def fingerprint(dirs: list[Path]) -> str:
    """A hash of every template and static file: any change re-renders what depends on it."""
    digest = hashlib.sha256(__version__.encode())
    for base in dirs:
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
