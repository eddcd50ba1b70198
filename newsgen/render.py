"""Stage 4, render: a planned `Page` becomes bytes through one Jinja2 environment.

Autoescape on for HTML and XML, StrictUndefined, the site's `templates/` in front of the theme
that ships inside the package.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import BuiltinFunctionType, FunctionType
from typing import Any
from urllib.parse import urljoin

import jinja2
from jinja2 import meta, nodes
from jinja2.runtime import Context
from jinja2.utils import internalcode, missing
from markupsafe import Markup, escape

from newsgen import __version__, i18n
from newsgen.config import Config, site_relative
from newsgen.enrich import first_sentence_end
from newsgen.markup import safe_url
from newsgen.plan import Link, Page, url_for, url_to_path
from newsgen.plan import group_slug as slug
from newsgen.records import Article, Problem
from newsgen.theme import ASSETS, Site, template_dirs

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def environment(
    site_templates: Path, site: Site, bytecode_dir: Path | None = None
) -> jinja2.Environment:
    """The one Jinja environment. `bytecode_dir` keeps compiled templates between builds."""
    cache = None
    if bytecode_dir is not None:
        bytecode_dir.mkdir(parents=True, exist_ok=True)
        cache = jinja2.FileSystemBytecodeCache(str(bytecode_dir))
    env = jinja2.Environment(
        bytecode_cache=cache,
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(site_templates)]),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a build never sees a template change mid-run; saves a stat a page
    )
    env.context_class = DirectCalls
    published = dict(site.assets)

    def url(path: str) -> str:
        """A path of the site under its base path; an asset's as it is published."""
        return site.base_path + published.get(path, path).lstrip("/")

    def asset(name: str) -> str:
        """The URL of `assets/<name>`, named by its content (see theme.assets)."""
        path = f"/{ASSETS}/{name.lstrip('/')}"
        if path not in published:
            raise jinja2.TemplateRuntimeError(
                f"asset({name!r}): no such file in the site's templates/static/{ASSETS}/ "
                "or the theme's"
            )
        return url(path)

    env.globals.update(
        site=site,
        url=url,
        asset=asset,
        abs_url=lambda path: site.base_url + path.lstrip("/"),
        t=i18n.translate,
        format_date=i18n.format_date,
        month_name=i18n.month_name,
        locale_tag=i18n.locale_tag,
        text_direction=i18n.text_direction,
        json_ld=json_ld,
        version=__version__,
        label=label,
        language_name=i18n.language_name,
        after_headline=after_headline,
        lead_in=lead_in,
        reading_minutes=reading_minutes,
        slug=slug,
        url_for=url_for,
        safe_url=safe_url,
        absolute=lambda link: absolute_url(site.base_url, link),
        news_article=lambda article, canonical: news_article(article, canonical, site),
        feed_updated=lambda articles: feed_updated(articles, site.build_time),
        entry_id=entry_id,
    )
    env.globals["partial"] = Partials(env)
    env.filters["iso"] = iso_time
    return env


class DirectCalls(Context):
    """A template context that calls plain Python functions (`url`, `t`, `label`…), cached
    ones, built-in methods and `partial` straight away. Jinja's own `call` first looks on
    every callable for `pass_context` and the like: with some forty calls on an article page,
    that was a third of its rendering time."""

    @internalcode  # as Jinja's: left out of the template lines of a traceback
    def call(self, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        kind = type(obj)
        if kind is Partials:
            return obj.render(self._with_locals(kwargs), *args, **kwargs)
        if kind is not BuiltinFunctionType and (
            kind not in _PLAIN_FUNCTIONS or "jinja_pass_arg" in obj.__dict__
        ):
            return super().call(obj, *args, **kwargs)
        kwargs.pop("_loop_vars", None)
        kwargs.pop("_block_vars", None)
        try:
            return obj(*args, **kwargs)
        except StopIteration:
            return self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )

    def _with_locals(self, kwargs: dict[str, Any]) -> Context:
        """This context plus the variables set in the calling loop or block, as Jinja gives
        a `pass_context` function."""
        context: Context = self
        for name in ("_loop_vars", "_block_vars"):
            assigned = kwargs.pop(name, None)
            if assigned:
                context = context.derived(assigned)
        return context


_PLAIN_FUNCTIONS = (FunctionType, functools._lru_cache_wrapper)


class Partials:
    """`partial(name, **values)` in a template: what `{% include name %}` would give, with
    `values` as variables. A partial that reads nothing but the globals, `lang` and `values`
    (the theme's header, footer and teaser; a site's override is checked for the same) is
    rendered once per language and values, not once per page or per item: a teaser shows up
    in five or six listings, the header on every page."""

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.reads: dict[tuple[str, ...], _Reads | None] = {}
        self.rendered: dict[tuple[object, ...], Markup] = {}
        # Records are keys by identity (hashing an article field by field costs more than
        # drawing its teaser): they are kept here so that no other object takes their id.
        self.kept: list[object] = []
        self.frozen: dict[type, bool] = {}
        self.globals: dict[str, dict[str, Any]] = {}

    def forget(self) -> None:
        """Drop the renderings kept so far (and the values that key them)."""
        self.rendered.clear()
        self.kept.clear()

    @jinja2.pass_context
    def __call__(self, context: Context, name: str, /, **values: object) -> Markup:
        return self.render(context, name, **values)

    def render(self, context: Context, name: str, /, **values: object) -> Markup:
        call = (name, *values)
        if call not in self.reads:
            self.reads[call] = self._reads(name, values)
        reads = self.reads[call]
        given = None if reads is None else self._given(reads, values, context)
        if given is None:
            return self._render(name, context.get_all(), values)
        key = (name, *map(self._key, given.values()))
        try:
            return self.rendered[key]
        except KeyError:
            html = self.rendered[key] = self._render(name, given)
            self.kept += given.values()
            return html
        except TypeError:  # a value that cannot be a key
            return self._render(name, context.get_all(), values)

    def _given(
        self, reads: _Reads, values: dict[str, object], context: Context
    ) -> dict[str, object] | None:
        """The values the partial reads, or None when one is undefined or a global it reads
        is hidden by a variable of the page's (`{% set url = … %}`)."""
        for var in reads.globals:
            if context.resolve_or_missing(var) is not self.env.globals[var]:
                return None
        given = {}
        for var in reads.values:
            value = values[var] if var in values else context.resolve_or_missing(var)
            if value is missing or isinstance(value, jinja2.Undefined):
                return None  # drawn as an include, to fail where the partial reads it
            given[var] = value
        return given

    def _key(self, value: object) -> object:
        kind = type(value)
        frozen = self.frozen.get(kind)
        if frozen is None:
            params = getattr(kind, "__dataclass_params__", None)
            frozen = self.frozen[kind] = bool(params and params.frozen)
        return (Partials, id(value)) if frozen else value

    def _reads(self, name: str, values: dict[str, object]) -> _Reads | None:
        """What partial `name` reads besides its own variables, or None when its output may
        depend on more than the globals, `lang` and `values` (the page, other templates)."""
        source, filename, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
        tree = self.env.parse(source, name, filename)
        if any(True for _ in meta.find_referenced_templates(tree)):
            return None
        names = {node.name for node in tree.find_all(nodes.Name) if node.ctx == "load"}
        globals_read = names & set(self.env.globals)
        # Undeclared variables leave out the globals, also those that `values` replace.
        own = meta.find_undeclared_variables(tree) | (globals_read & set(values))
        if not own <= {"lang", *values}:
            return None
        return _Reads(values=tuple(sorted(own)), globals=tuple(sorted(globals_read - own)))

    def _render(
        self, name: str, variables: dict[str, Any], values: dict[str, object] | None = None
    ) -> Markup:
        """Like `{% include %}`: the partial in its own context. With `values`, over the
        including template's `variables` (which hold the globals); without, over the globals
        and `variables`."""
        template = self.env.get_template(name)
        if values is None:
            # What Jinja's own context would hold, without reading the template's chain of
            # globals key by key for every teaser.
            if name not in self.globals:
                self.globals[name] = dict(template.globals)
            context = template.new_context({**self.globals[name], **variables}, shared=True)
        else:
            context = template.new_context(variables, shared=True, locals=values)
        return Markup(self.env.concat(template.root_render_func(context)))


@dataclass(frozen=True, slots=True)
class _Reads:
    """The variables a partial reads: its values (`lang` and those it is given), which key
    its renderings, and the globals."""

    values: tuple[str, ...]
    globals: tuple[str, ...]


def iso_time(value: dt.date | dt.datetime | None, fallback: dt.datetime) -> str:
    """RFC 3339 for feeds and sitemaps; a date alone is midnight UTC."""
    if value is None:
        value = fallback
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return value.isoformat().replace("+00:00", "Z")


@functools.lru_cache(maxsize=256)
def absolute_url(base: str, link: str) -> str:
    """`link` resolved against the site's URL: an article page asks for its image's three
    times (Open Graph, Twitter card, JSON-LD), and urljoin is slow."""
    return urljoin(base, link)


def label(link: Link, lang: str) -> str:
    """A link's text in the reader's language: 'archive' → 'Archivio', '2012-07' →
    'Juillet 2012'; names of places and tags (not `localize`) stay as written."""
    if not link.localize:
        return link.label
    month = _YEAR_MONTH.match(link.label)
    if month:
        return f"{i18n.month_name(int(month[2]), lang)} {month[1]}"
    if link.label.startswith("language:"):
        return i18n.language_name(link.label.removeprefix("language:"), lang)
    return i18n.translate(lang, link.label)


def after_headline(summary: str, title: str) -> str:
    """What a teaser shows under a headline that was taken from the start of the lede: the
    text that follows it, not the same words again. After a whole sentence, the next one;
    after a headline cut inside its sentence (with "…" or at a comma), "…" and the rest."""
    stem = title.removesuffix("…").rstrip()
    if not stem or not summary.startswith(stem):
        return summary
    rest = summary[len(stem) :]
    whole = _ENDS.search(stem) or _ENDS.match(rest)
    if title.endswith("…") or not whole:
        # The end of a sentence the headline all but holds is a scrap, not a summary.
        rest = rest.lstrip(" ,;:–—-")
        return "…" + rest if len(rest.strip(" .…")) >= SCRAP else ""
    return rest.lstrip(' .!?…"”»’)]').lstrip()


# The end of a sentence: its mark and any closing quotes or brackets.
_ENDS = re.compile(r"[.!?…]+[\"”»’)\]]*$|^[\"”»’)\]]*[.!?…]")
SCRAP = 40


@dataclass(frozen=True, slots=True)
class LeadIn:
    """An article body whose first sentence is the headline, marked so that the page shows
    it once, as the headline (`found`); else the body as it was."""

    body: Markup
    found: bool
    kicker: bool = False  # the dateline before it, set above it (linked to its place)


# Where in the first paragraph a headline taken from the lede may start: after a dateline.
_LEAD_WINDOW = 160
# A first sentence longer than this is set smaller: a headline's weight on a paragraph's length
# reads as shouting.
LONG_LEAD = 140
LONGEST_LEAD = 400
_FIRST_PARAGRAPH = re.compile(r"\A(\s*<p>)([^<]*)</p>")


def lead_in(body: Markup, title: str, place: str = "", dateline: str = "") -> LeadIn:
    """Wrap the first sentence of `body` in `<span class="lead-in">` when the headline is
    that sentence (or its start, cut): the page then shows the sentence once, large, where
    the paragraph begins; the text before it (the dateline) is set above it, the place
    `dateline` in it linked to `place`. A first paragraph with markup in it is left alone."""
    stem = title.removesuffix("…").rstrip()
    first = _FIRST_PARAGRAPH.match(body)
    if not stem or first is None:
        return LeadIn(body, False)
    text = html.unescape(first[2])
    start = text.find(stem, 0, _LEAD_WINDOW + len(stem))
    if start < 0:
        return LeadIn(body, False)
    end = start + (first_sentence_end(text[start:]) or len(text) - start)
    if end - start > LONGEST_LEAD:
        end = start + len(stem)  # no sentence end in sight: the headline's words, no more
    end = max(end, start + len(stem))
    size = " long" if end - start > LONG_LEAD else ""
    # Markup from text: `first[1]` is the body's own `<p>` (the pattern admits nothing else)
    # and every piece of the paragraph's text goes through escape(), in _kicker too.
    marked = (
        f'{first[1]}{_kicker(text[:start], place, dateline)}<span class="lead-in{size}">'
        f"{escape(text[start:end])}</span>{escape(text[end:])}</p>"
    )
    return LeadIn(Markup(marked) + body[first.end() :], True, bool(text[:start].strip()))


def _kicker(before: str, place: str, dateline: str) -> str:
    """The dateline before a lead-in ("Lyon, 3 mars 2014 –"), its place linked, as HTML."""
    before = before.strip()
    if not before:
        return ""
    if place and dateline and before.startswith(dateline):
        link = f'<a href="{escape(place)}">{escape(dateline)}</a>'
        return f'<span class="kicker">{link}{escape(before[len(dateline) :])}</span> '
    return f'<span class="kicker">{escape(before)}</span> '


WORDS_A_MINUTE = 220


def reading_minutes(body: str) -> int:
    """Minutes a reader takes over `body` (HTML), at least one. Words are counted by the
    spaces and line ends between them: a tag's attributes add a few, a page's worth of
    them not a minute, and counting so costs a microsecond where parsing costs ten."""
    return max(1, round((body.count(" ") + body.count("\n")) / WORDS_A_MINUTE))


def feed_updated(articles: Sequence[Article], fallback: dt.datetime) -> str:
    """The newest entry's time; a feed of undated articles uses the build time."""
    times = [a.published or a.date for a in articles if a.date]
    newest = max(times, key=_as_datetime, default=None)
    return iso_time(newest, fallback)


def _as_datetime(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def entry_id(article: Article) -> str:
    """An Atom entry id that outlives rebuilds, slug changes and a new `base_url`: a name-based
    UUID of the article's stable id."""
    return _entry_id(article.id)


@functools.lru_cache(maxsize=4096)
def _entry_id(article_id: str) -> str:
    """Once per article, which is in the site feed, its place's and its tags' feeds."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'newsgen:article:' + article_id)}"


def news_article(article: Article, canonical: str, site: Site) -> dict[str, Any]:
    """schema.org NewsArticle for search engines, from the article's own fields."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.summary,
        "inLanguage": article.lang,
        "url": canonical,
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
        "publisher": {"@type": "Organization", "name": site.title},
    }
    if article.date:
        data["datePublished"] = (article.published or article.date).isoformat()
    if article.image:
        data["image"] = [absolute_url(site.base_url, article.image)]
    if article.dateline:
        data["contentLocation"] = {"@type": "Place", "name": article.dateline}
    if article.tags:
        data["keywords"] = list(article.tags)
    return data


def json_ld(data: dict[str, Any]) -> Markup:
    """JSON for a `<script type="application/ld+json">`: `<` escaped so that no text in it
    can close the script element."""
    text = _JSON.encode(data)
    if "<" in text or ">" in text or "&" in text:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


Bodies = Callable[[Article], str]


def render_page(env: jinja2.Environment, page: Page, body_of: Bodies) -> bytes:
    """The bytes of one page. `body_of` fetches an article's body HTML when the page shows it."""
    template = env.get_template(page.template)
    variables = {
        # What Template.render would build from a ChainMap of the globals, key by key: slower.
        **env.globals,
        "page": page,
        # The interface speaks the site's language on every page; an article's own text
        # carries its language in the markup.
        "lang": env.globals["site"].language,  # type: ignore[attr-defined]
        "body": Markup(body_of(page.article)) if page.article else Markup(""),
        "body_of": lambda article: Markup(body_of(article)),
        "path": url_to_path(page.url),
    }
    try:
        html = env.concat(template.root_render_func(template.new_context(variables, shared=True)))
    except Exception:
        env.handle_exception()
    return html.encode("utf-8")


# --- template errors, as problems naming the template file and line ---------------------

TEMPLATE_SUFFIXES = (".html", ".xml", ".txt")


def template_problems(config: Config, site: Site) -> list[Problem]:
    """Syntax errors in any template, found before a build writes a single page with them."""
    env = environment(config.source_dir("templates"), site)
    problems: list[Problem] = []
    for name in env.list_templates(filter_func=_is_template):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or name
            problems.append(_template_problem(where, exc.lineno, exc.message or str(exc), config))
    return problems


def _is_template(name: str) -> bool:
    return not name.startswith("static/") and name.endswith(TEMPLATE_SUFFIXES)


_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def template_failure(exc: Exception, config: Config) -> Problem | None:
    """The template line an error in rendering comes from, also when it happened in a worker
    process (multiprocessing passes the worker's traceback along only as text). An error
    Jinja raises is a template's; another (`{{ 1 / 0 }}`) is when a template's frame raised
    it; else None: not a template's."""
    text = "".join(traceback.format_exception(exc))
    dirs = template_dirs(config.source_dir("templates"))
    frames = [
        (file, int(line))
        for file, line in _FRAME.findall(text)
        if any(Path(file).is_relative_to(d) for d in dirs)
    ]
    if isinstance(exc, jinja2.TemplateError):
        message = exc.message or type(exc).__name__
    elif frames:
        message = f"{type(exc).__name__}: {exc}"
    else:
        return None
    file, line = frames[-1] if frames else (config.templates, None)
    return _template_problem(file, line, message, config)


def _template_problem(file: str, line: int | None, message: str, config: Config) -> Problem:
    return Problem(
        path=site_relative(Path(file), config.root),
        line=line,
        level="error",
        message=f"template error: {message}; fix the template and save",
    )
