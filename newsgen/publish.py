"""Publishing a planned site: render the pages whose inputs changed (on every core), copy the
static files, remove what the site no longer has, index the search, and record the output
folder as built. Nothing replaces a file of the old site until every new file is on disk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from newsgen import headers, images, media, parallel, search, theme, write
from newsgen.cache import CODE, Body, BodyReader, Cache
from newsgen.config import Config
from newsgen.plan import Page, page_fields, url_to_path
from newsgen.records import Article
from newsgen.result import BuildResult, Run

if TYPE_CHECKING:
    import jinja2


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """The output folder as this build found it. `previous` is the key of each file the
    cache knows to be in it; into a folder that is not `known`, every file is written, and
    of the files there, only those its marker lists are newsgen's to remove."""

    folder: write.Folder
    known: bool
    previous: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    """What write_site did: the files it wrote and removed, and the key of every file
    newsgen now has in the folder (`record`). A partial build also says what it changed:
    the keys its files had before (`before`; a new file has none) and have now (`after`)."""

    written: int
    removed: int
    record: Mapping[str, str]
    before: dict[str, str] | None = None
    after: dict[str, str] | None = None


class Over(Mapping[str, str]):
    """The keys of `top` over those of `under`, neither copied (`under` may be the record
    of 120,000 files, read as it is asked for)."""

    def __init__(self, top: Mapping[str, str], under: Mapping[str, str]) -> None:
        self.top, self.under = top, under

    def __getitem__(self, url: str) -> str:
        return self.top[url] if url in self.top else self.under[url]

    def __iter__(self) -> Iterator[str]:
        yield from self.top
        yield from (url for url in self.under if url not in self.top)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def finish(
    cache: Cache, folder: write.Folder, state: str, result: BuildResult, done: Written
) -> None:
    """Record the build, mark the output folder as the one recorded (it holds the files of
    `done.record`), and put it in place."""
    before, after = done.before, done.after
    if before is None or after is None:
        marker = marker_of(done.record, cache.variants_digest(str(folder.path)))
        write.write_marker(folder, marker, map(url_to_path, done.record))
    else:
        # A partial build is made in the folder the last build marked (`known`), with the
        # image variants that build left: only the files it rewrote change the marker, and
        # unless it made a new one, the marker lists the same files.
        marker = marker_after(cache.marker(str(folder.path)), before, after)
        if len(before) < len(after) or not write.rewrite_marker(folder, marker):
            write.write_marker(folder, marker, map(url_to_path, done.record))
    cache.finish_build(str(folder.path), state, result, marker)
    cache.commit()
    write.install(folder)


def known(cache: Cache, folder: write.Folder) -> bool:
    """Whether the output folder is the one the cache recorded (see write.Folder)."""
    return bool(folder.marker) and folder.marker == cache.marker(str(folder.path))


def index_search(run: Run, articles: Sequence[Article], into: Path) -> search.IndexReport:
    """Index the search of the site written in `into`."""
    run.cache.commit()  # the plan just stored, megabytes (see BodyReader)
    bodies = BodyReader(run.cache.path)
    try:
        return search.index_site(
            articles, lambda a: bodies.get(a.body_key), into, run.config.language, jobs=run.jobs
        )
    finally:
        bodies.close()


def missing_files(output: Path, urls: Iterable[str]) -> set[str]:
    """The URLs whose file is not in the output folder.

    A page that is a folder's index.html (one per article) is found by listing the folder
    above it once, not by a system call per page: on 10,000 articles that is 5 ms instead of
    half a second. (An index.html deleted from a folder that is still there goes unseen;
    deleting the page's folder, or the output folder, is seen.) Image variants are not
    among them: see variants_in_place."""
    return _missing(output, urls, lambda parent: True, check_files=True)


def _missing(
    output: Path, urls: Iterable[str], listed: Callable[[str], bool], *, check_files: bool
) -> set[str]:
    """missing_files for the page folders of the parents `listed` accepts (and for the
    other files, when `check_files`)."""
    children: dict[str, set[str]] = {}
    missing = set()
    for url in urls:
        parent, folder = _page_folder(url)
        if folder:
            if not listed(parent):
                continue
            if parent not in children:
                children[parent] = _folders(output / parent)
            if folder not in children[parent]:
                missing.add(url)
        elif check_files and not os.path.isfile(os.path.join(output, url_to_path(url))):
            missing.add(url)
    return missing


# A page's file and its compressed copies, each the whole content of a page's folder.
_PAGE_FILES = ("index.html", "index.html.gz", "index.html.br")
# What follows a page's folder in its URLs (see url_to_path).
_PAGE_TAILS = frozenset(("", *_PAGE_FILES))


def _missing_below(output: Path, folder: str, urls: Iterable[str]) -> Iterator[str]:
    """The URLs of pages (and copies) in folders right below `folder` whose page folder is
    not there, among `urls`: `_missing` for one folder, but with the URL's parts found by
    one split, not by `_page_folder` (the articles' folder of a site of 1,000,000 articles
    is listed by the first rebuild after a full build: 1,000,000 URLs)."""
    head = f"/{folder}/"
    present: set[str] | None = None
    for url in urls:
        if not url.startswith(head):
            continue
        name, slash, tail = url[len(head) :].partition("/")
        if not slash or tail not in _PAGE_TAILS:
            continue
        if present is None:
            present = _folders(output / folder)
        if name not in present:
            yield url


def _page_folder(url: str) -> tuple[str, str]:
    """The folder above a page's own folder and the page's folder's name, or ("", "") for a
    file that is not a page's (or its copies') in a folder of its own below the top one.
    (The top folder changes with every build: its marker is written there.)"""
    head, _, name = url_to_path(url).rpartition("/")
    parent, _, folder = head.rpartition("/")
    return (parent, folder) if parent and name in _PAGE_FILES else ("", "")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where an output folder's files are, as a rebuild checks them: the folders that hold
    pages' folders, each with its stamp (see write.folder_stamp) when it was last known to hold
    them all ("" when not yet), and the URLs of the other files. A rebuild lists only the
    folders whose stamp changed: with 100,000 articles, stat'ing 300 folders instead of
    listing 120,000 entries (a quarter of a second)."""

    folders: dict[str, str]
    files: tuple[str, ...]


def layout_of(output: Path, urls: Iterable[str], clock: write.Clock) -> Layout:
    """The layout of the files at `urls`, just written into `output`: each folder's stamp
    is taken now, when it settled by `clock` (see write.settled)."""
    parents: set[str] = set()
    files: list[str] = []
    for url in urls:
        parent, folder = _page_folder(url)
        if folder:
            parents.add(parent)
        else:
            files.append(url)
    folders = {parent: write.settled_stamp(output / parent, clock) for parent in sorted(parents)}
    return Layout(folders=folders, files=tuple(sorted(files)))


def missing_outputs(
    cache: Cache, output: Path, urls: Callable[[Collection[str] | None], Iterable[str]]
) -> set[str]:
    """missing_files of the URLs the cache records in `output`, judged by the layout the
    cache records when it has one; stamps the folders found complete. `urls(None)` gives
    every URL recorded, `urls(folders)` at least those below `folders`: loaded only when
    needed, and only below each folder to list (a rebuild right after a full build lists
    the few folders written since the file system's clock last ticked, not the whole site)."""
    layout = recorded_layout(cache, output)
    if layout is None:
        return missing_files(output, urls(None))
    clock = write.fs_clock(output)
    stamps = {parent: write.folder_stamp(output / parent, clock) for parent in layout.folders}
    unsure = {p for p, stamp in layout.folders.items() if not stamp or stamps[p][0] != stamp}
    missing = {u for u in layout.files if not os.path.isfile(output / url_to_path(u))}
    if not unsure:
        return missing
    # The stamps were taken before the listing: a change since gives another stamp.
    found = {u for f in sorted(unsure) for u in _missing_below(output, f, urls({f}))}
    incomplete = {_page_folder(url)[0] for url in found}
    folders = {
        p: stamps[p][0] if p in unsure and p not in incomplete and stamps[p][1] else stamp
        for p, stamp in layout.folders.items()
    }
    if folders != layout.folders:
        record_layout(cache, output, Layout(folders=folders, files=layout.files))
    return missing | found


def recorded_layout(cache: Cache, output: Path) -> Layout | None:
    layout = cache.recall(_layout_memo(cache, output), LAYOUT_SHAPE)
    return layout if isinstance(layout, Layout) else None


def record_layout(cache: Cache, output: Path, layout: Layout | None) -> None:
    """Record the layout of `output` (None: forget it, and the next check lists every
    folder)."""
    cache.remember(_layout_memo(cache, output), LAYOUT_SHAPE if layout else "", layout)


LAYOUT_SHAPE = "1"


def _layout_memo(cache: Cache, output: Path) -> str:
    return f"layout:{cache.output_name(str(output))}"


def _names(path: Path) -> set[str]:
    try:
        return set(os.listdir(path))
    except OSError:
        return set()


def _folders(path: Path) -> set[str]:
    try:
        with os.scandir(path) as entries:
            return {e.name for e in entries if e.is_dir()}
    except OSError:
        return set()


def build_time() -> dt.datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the Unix epoch: a time shown
    in output must not change from build to build."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "0")
    try:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    except ValueError:
        return dt.datetime.fromtimestamp(0, tz=dt.UTC)


def site_info(config: Config) -> theme.Site:
    published = theme.assets(all_static_files(config.source_dir("templates")))
    return theme.Site(
        title=config.title,
        base_url=config.base_url,
        base_path=config.base_path,
        language=config.language,
        build_time=build_time(),
        search=config.search,
        assets=tuple(sorted(published.urls.items())),
    )


def write_site(
    run: Run,
    pages: Sequence[Page],
    content: dict[str, str],
    *,
    known: bool,
    previous: Mapping[str, str],
    interrupted: bool = True,
    statics: dict[str, Path] | None = None,
    partial: bool = False,
    mirror: media.Media | None = None,
    missing: set[str] | None = None,
    workers: RenderWorkers | None = None,
) -> Written:
    """Render and write the pages whose inputs changed; copy static files (`statics`, when
    the caller already listed them); remove what the site no longer has. Returns the files
    written, the files removed, and the key of every file newsgen now has in the folder.
    `known` and `previous` are as `Output` says (`previous` is read as it is asked for: a
    partial build asks for the keys of its files only); `mirror` is the media store as the
    build read it (else it is read now); `missing`, the files of `previous` the caller just
    found missing (else they are looked for); `workers`, render workers forked before the
    site was read (see render_workers), render the pages.

    When `partial`, `pages` may be only some of the site's: the pages not given are kept as
    they are (as `previous` records them), nothing is removed, and no progress is shown
    (a few pages)."""
    config, cache = run.config, run.cache
    progress = None if partial else run.options.progress
    out = Output(folder=run.folder, known=known, previous=previous)
    into = out.folder.into
    recorded: Mapping[str, str] = previous
    before: dict[str, str] = {}
    templates = config.source_dir("templates")
    site = site_info(config)
    mirror = mirror if mirror is not None else media.load(config)
    theme_key = theme.fingerprint(theme.template_dirs(templates))
    salt = "\0".join([CODE, theme_key, repr(site), mirror.state])
    found = statics if statics is not None else static_files(templates)
    published = theme.assets(all_static_files(templates)).data
    # A rebuild of some pages keeps the store as the last build published it (the store's
    # state is part of what a rebuild must have in common with it).
    variants = {} if partial else media_files(run, mirror)
    keys: dict[str, str] = {}

    def key_all() -> None:
        keys.update(page_keys(pages, salt, content))
        keys.update({url: _key(published.get(url) or path) for url, path in found.items()})
        if config.compress:
            keys.update(compressed_keys(keys))

    copied_as = copies if config.compress else _no_copies
    if previous:
        key_all()
        kept = [p.url for p in pages if _same(p.url, keys, previous)]
        if missing is None:
            missing = missing_files(into, [*kept, *(c for u in kept for c in copied_as(u))])
        stale = [
            p
            for p in pages
            if not _same(p.url, keys, previous)
            or p.url in missing
            or any(c in missing for c in copied_as(p.url))
        ]
        alongside = None
    else:
        # Nothing was written before, so every page is: its key can wait until the workers
        # render (on two cores, the parent's share of a cold build at 100k articles).
        stale = list(pages)

        alongside = key_all

    if interrupted:  # a killed build may have left temporary files; finding them walks it all
        write.clean_temporaries(into)
    cache.commit()  # renderers read bodies through connections of their own (see BodyReader)
    # Into a new output folder, pages are written in place: no reader sees that folder
    # before `install` renames it, and renaming every page afterwards cost the parent a
    # tenth of a second per 10,000 pages.
    ordered, spans = render_order(stale, packed=workers is not None)
    renderer = Renderer(templates, site, cache.path, into, ordered, out.folder.new)
    renderer.media = mirror
    renderer.compress = config.compress
    shown_progress: Callable[[int], None] | None = None
    if progress:
        shown_progress = lambda n: progress("writing", spans[n - 1][1], len(stale))  # noqa: E731
    try:  # nothing replaces a page of the old site until every new file is on disk
        if workers is not None:
            work = workers.pool.map(
                [tuple(ordered[start:end]) for start, end in spans],
                progress=shown_progress,
                meanwhile=alongside,
            )
        else:
            work = parallel.run(
                renderer.span,
                spans,
                jobs=run.jobs,
                chunk=1,
                size=len(ordered),
                initializer=renderer.start,
                progress=shown_progress,
                meanwhile=alongside,
            )
        staged, rendered = [], set()
        for files, hosts in work:
            staged += files
            rendered |= hosts
        if workers is not None:
            # Done: what the build does next (record the plan, index, finish) is the
            # parent's, and idle workers would only add their memory to its peak.
            workers.close()
        copied = _copy_statics(found, keys, previous, into, published)
        if config.compress:
            copied.update(_compress_statics(found, published, keys, previous, into))
        hosts = _image_hosts(config, out, pages, stale, rendered, partial)
        copied.update(_headers_file(config, hosts, keys, previous, into))
        staged += copied.values()
        shown, unused = ([], []) if partial else sync_variants(out, variants)
        staged += shown
        listed = _listed(out)
        if partial:  # the keys the files had, before _forget records them as replaced
            before = {url: previous[url] for url in keys if url in previous}
        if out.known:
            replaced = [*(p.url for p in stale), *(c for p in stale for c in copied_as(p.url))]
            recorded = Over(_forget(cache, out, [*replaced, *copied]), previous)
        if not out.folder.new:
            _list_ahead(out, keys, listed)
        write.commit(staged)
    except BaseException:
        # A worker still on its last span when another failed stages files until that span
        # ends: they are cleaned once it has (CI found one such file after a full disk).
        if workers is not None:
            workers.close()
        write.clean_temporaries(into)
        raise
    written = len(stale) + sum(1 for url in copied if not url.endswith(COPIES)) + len(shown)
    name = str(out.folder.path)
    if partial:
        cache.set_outputs(name, keys, {u: recorded[u] for u in keys if u in recorded})
        if len(before) < len(keys):  # a file the recorded layout does not have
            record_layout(cache, out.folder.path, None)
        cache.commit()
        record = Over(keys, previous)
        return Written(written=written, removed=0, record=record, before=before, after=keys)
    if out.known:
        gone = {url_to_path(u) for u in set(previous) - set(keys)}
    else:
        gone = listed - {url_to_path(u) for u in keys}
    # Variants are kept as sync_variants says (a record or marker of an older newsgen lists
    # them one by one).
    gone -= {f"{media.OUTPUT_DIR}/{name}" for name in variants}
    removed = write.remove(into, gone | set(unused))
    cache.set_outputs(name, keys, recorded if out.known else None)
    clock = write.fs_clock(into)
    record_layout(cache, out.folder.path, layout_of(into, keys, clock))
    cache.set_variants(name, variants, write.settled_stamp(into / media.OUTPUT_DIR, clock))
    cache.commit()
    return Written(written=written, removed=removed, record=keys)


HEADERS = "/_headers"
COPIES = (".gz", ".br")  # the suffixes of compressed copies


def _key(data: bytes | Path) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.read_bytes()).hexdigest()[:32]


def copies(url: str) -> list[str]:
    """The URLs of the compressed copies of the file at `url` (see write.compressed)."""
    path = "/" + url_to_path(url)
    return [path + suffix for suffix in write.compressed_suffixes(path)]


def _no_copies(url: str) -> list[str]:
    return []


def compressed_keys(keys: dict[str, str]) -> dict[str, str]:
    """The keys of the compressed copies of the files of `keys`: those of their files."""
    return {copy: key for url, key in keys.items() for copy in copies(url)}


def _same(url: str, keys: dict[str, str], previous: Mapping[str, str]) -> bool:
    """Whether the file at `url` and its copies are as the last build wrote them."""
    return previous.get(url) == keys[url] and all(
        previous.get(c) == keys[c] for c in copies(url) if c in keys
    )


def _compress_statics(
    statics: dict[str, Path],
    published: dict[str, bytes],
    keys: dict[str, str],
    previous: Mapping[str, str],
    output: Path,
) -> dict[str, write.Staged]:
    """Stage the compressed copies of the static files that changed or are missing."""
    staged = {}
    for url, path in sorted(statics.items()):
        wanted = [c for c in copies(url) if previous.get(c) != keys[c]]
        wanted += [c for c in copies(url) if c not in wanted and not (output / c[1:]).is_file()]
        if not wanted:
            continue
        data = published.get(url) or path.read_bytes()
        for suffix, copy in write.compressed(url, data):
            if "/" + url_to_path(url) + suffix in wanted:
                destination = write.target(output, url_to_path(url) + suffix)
                staged[url + suffix] = write.stage(destination, copy)
    return staged


def _headers_file(
    config: Config, hosts: set[str], keys: dict[str, str], previous: Mapping[str, str], output: Path
) -> dict[str, write.Staged]:
    """Stage `_headers` (see newsgen.headers) when it changed or is missing; its key goes
    into `keys`."""
    rules = headers.site_rules(config.base_path, hosts, config.csp, config.headers)
    data = headers.file_text(rules, hosts).encode()
    keys[HEADERS] = _key(data)
    destination = write.target(output, HEADERS[1:])
    if previous.get(HEADERS) == keys[HEADERS] and destination.is_file():
        return {}
    return {HEADERS: write.stage(destination, data)}


def _is_html(url: str) -> bool:
    return url.endswith(("/", ".html", ".htm"))


def _image_hosts(
    config: Config,
    out: Output,
    pages: Sequence[Page],
    stale: list[Page],
    rendered: set[str],
    partial: bool,
) -> set[str]:
    """The origins the site's pages load images from, besides its own (for the CSP's
    img-src), from the pages rendered now (`rendered`), the hosts the last `_headers`
    recorded and, only when an edit may have removed the last image of a host, the pages
    kept as they were (read from the output folder)."""
    if config.remote_images != "link":
        return set()  # images not in the media store are left out of every page
    if not partial and len(stale) == len(pages):
        return rendered
    into = out.folder.into
    last = _recorded_hosts(into) if out.known else None
    if last is not None and last <= rendered:
        return set(rendered)  # every host of a page kept is among `last`
    redone = {p.url for p in stale}
    if last is not None:
        gone = set() if partial else set(out.previous) - {p.url for p in pages}
        if _hosts_in(into, (redone | gone)) <= rendered:
            return last | rendered  # no host of a page replaced or removed is lost
    everything = set(out.previous) if partial else {p.url for p in pages}
    return rendered | _hosts_in(into, everything - redone)


def _recorded_hosts(output: Path) -> set[str] | None:
    try:
        found = headers.recorded_hosts((output / HEADERS[1:]).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    return None if found is None else set(found)


def _hosts_in(output: Path, urls: Iterable[str]) -> set[str]:
    """The image origins of the HTML files of `urls` in the output folder, as they are."""
    found: set[str] = set()
    for url in urls:
        if _is_html(url):
            with contextlib.suppress(OSError):
                found |= headers.image_hosts((output / url_to_path(url)).read_bytes())
    return found


def media_files(run: Run, mirror: media.Media) -> dict[str, Path]:
    """The variant files of every image in the store, by name, as the variant cache holds
    them: those it lacks are encoded first, on every core (never again for the same image,
    also when the output folder is deleted: the cache is beside the build cache)."""
    stored = mirror.stored()
    cache = variant_cache(run.cache)
    todo = images.missing(stored, cache)
    if todo:
        progress = run.options.progress
        images.encode_all(
            todo,
            media.store_dir(run.config),
            cache,
            jobs=run.jobs,
            progress=progress and (lambda n: progress("images", n, len(todo))),
        )
    return {v.name: cache / v.name for e in stored for v in media.variants(e)}


def sync_variants(out: Output, variants: dict[str, Path]) -> tuple[list[write.Staged], list[str]]:
    """Stage the image variants (by name, as media_files gives them) that the output
    folder's `media/` lacks; and the variants there that the store no longer has (paths
    in the folder, removed with the site's other old files).

    One listing of the folder, not a check per file: a site with two images an article has
    four times as many variants as pages, and recording each as a page is recorded made
    every rebuild check and list them all. A variant's name is made of its content, so in a
    folder of newsgen's (with a marker, or new) one there is the right one, and every file
    named as one (media.is_variant) is newsgen's. Into a folder someone else made, each is
    written and none removed."""
    folder = out.folder.into / media.OUTPUT_DIR
    ours = out.folder.new or out.folder.marker is not None
    present = _names(folder) if ours else set()
    staged = [
        write.stage(write.target(out.folder.into, f"{media.OUTPUT_DIR}/{name}"), path.read_bytes())
        for name, path in sorted(variants.items())
        if name not in present
    ]
    unused = [f"{media.OUTPUT_DIR}/{n}" for n in present - variants.keys() if media.is_variant(n)]
    return staged, unused


def variants_in_place(cache: Cache, output: Path) -> bool:
    """Whether every variant the cache records in the output folder is in its `media/`.

    The folder is listed only when it may have changed since it was found complete: when
    its stamp (device, inode, change times) is not the one recorded then. Listing 44,000
    variants took 65 ms, a fifth of a rebuild's time; a stat takes microseconds."""
    folder, name = output / media.OUTPUT_DIR, str(output)
    stamp, _ = write.folder_stamp(folder, write.Clock())
    if stamp and stamp == cache.variants_stamp(name):
        return True
    stamp, settled = write.folder_stamp(folder, write.fs_clock(output))
    _, names = cache.variants(name)
    if names and not set(names) <= _names(folder):
        return False
    if stamp and settled:  # taken before the listing: a change since gives another stamp
        cache.set_variants_stamp(name, stamp)
    return True


def variant_cache(cache: Cache) -> Path:
    return cache.path.parent / "variants"


def _listed(out: Output) -> set[str]:
    """The files newsgen has in a folder that the cache does not know, as its marker lists
    them (none in a folder someone else made)."""
    if out.known or out.folder.marker is None:
        return set()
    return write.marked_files(out.folder.into)


def _list_ahead(out: Output, keys: dict[str, str], listed: set[str]) -> None:
    """Before new files are renamed into an existing folder, make its marker list them: a
    build killed meanwhile leaves files that no cache records, and the next build knows
    them from the marker. A known folder keeps its marker (and stays known); another gets
    the empty one, which no cache knows."""
    if out.known:
        if all(url in out.previous for url in keys):  # not `<=`: it counts the record
            return
        files = {url_to_path(u) for u in (*out.previous, *keys)}
        write.write_marker(out.folder, out.folder.marker or "", files)
    else:
        write.write_marker(out.folder, "", listed | {url_to_path(u) for u in keys})


def marker_of(keys: Mapping[str, str], variants: str = "") -> str:
    """The marker of an output folder holding the files of `keys` and the image variants
    of digest `variants` (see write.Folder and Cache.set_variants): a hash of its content,
    so that a rebuild and a clean build leave the same bytes. It is a sum of a hash of
    each file's URL and key (modulo 2**128), so that a rebuild of a few pages updates it
    from theirs alone (see marker_after)."""
    total = sum(_file_hash(url, key) for url, key in keys.items())
    if variants:
        total += _file_hash(f"/{media.OUTPUT_DIR}/", variants)
    return f"{total % _MARKER_MODULUS:032x}"


def marker_after(marker: str, before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """The marker of a folder marked `marker` after its files' keys changed from `before`
    (a file new in `after` has none there) to `after`."""
    total = int(marker, 16)
    total -= sum(_file_hash(url, key) for url, key in before.items())
    total += sum(_file_hash(url, key) for url, key in after.items())
    return f"{total % _MARKER_MODULUS:032x}"


_MARKER_MODULUS = 2**128


def _file_hash(url: str, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{url} {key}".encode()).digest()[:16], "big")


def _forget(cache: Cache, out: Output, urls: list[str]) -> dict[str, str]:
    """Record that the files at `urls` are about to be replaced (see Cache.forget_outputs);
    returns the record as it now is for them."""
    cache.forget_outputs(str(out.folder.path), urls)
    return dict.fromkeys(urls, "")


def page_keys(pages: Sequence[Page], salt: str, content: dict[str, str]) -> dict[str, str]:
    """Everything each page's bytes depend on (every field of Page): its planned data, the
    articles it shows, the templates and the site settings. An article is named by its unit
    key (its content is a pure function of it) plus the slug finalize gave it. Not its
    `order`: that is only a sort key, and it shifts for every later article when a file is
    added."""
    trails: dict[int, tuple[tuple[object, ...], str]] = {}
    keys = {}
    plain, shown_fields = _keyed_fields()
    for page in pages:
        articles: list[Article | None] = []
        for name, many in shown_fields:
            value = getattr(page, name)
            # A field's count first: (A, B) + () and (A,) + (B,) are two pages.
            articles += [*value, None] if many else [value]
        shown = "\0".join(f"{content[a.path]}:{a.slug}" if a else "-" for a in articles)
        # A month's articles share one breadcrumb trail: its (dataclass) repr is made once.
        trail = trails.get(id(page.crumbs))
        if trail is None or trail[0] is not page.crumbs:
            trail = trails[id(page.crumbs)] = (page.crumbs, repr(page.crumbs))
        text = f"{salt}\0{tuple(getattr(page, n) for n in plain)!r}\0{trail[1]}\0{shown}"
        keys[page.url] = hashlib.sha256(text.encode()).hexdigest()[:32]
    return keys


def _keyed_fields() -> tuple[list[str], list[tuple[str, bool]]]:
    """The fields of Page keyed by their repr (all but the trail, keyed apart), and those
    that show articles (with whether they hold many)."""
    fields = page_fields()
    plain = [name for name, kind, _ in fields if "article" not in kind and name != "crumbs"]
    shown = [(name, kind == "articles") for name, kind, _ in fields if "article" in kind]
    return plain, shown


def static_files(templates: Path) -> dict[str, Path]:
    """Static files by the URL they are published at (an asset's named by its content,
    see theme.assets), each with its source file."""
    found = all_static_files(templates)
    published = theme.assets(found).urls
    return {published.get(url, url): path for url, path in found.items()}


def all_static_files(templates: Path) -> dict[str, Path]:
    """Static files by URL; the site's `templates/static/` wins over the theme's."""
    found: dict[str, Path] = {}
    for base in reversed(theme.static_dirs(templates)):
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            found["/" + path.relative_to(base).as_posix()] = path
    return found


def _copy_statics(
    statics: dict[str, Path],
    keys: dict[str, str],
    previous: Mapping[str, str],
    output: Path,
    data: dict[str, bytes] | None = None,
) -> dict[str, write.Staged]:
    """Stage the static files that changed or are missing, by URL (`data`: the bytes of
    those not published as their source file is, by URL)."""
    staged = {}
    data = data or {}
    for url, path in sorted(statics.items()):
        destination = write.target(output, url.lstrip("/"))
        if previous.get(url) != keys[url] or not destination.is_file():
            staged[url] = write.stage(destination, data.get(url) or path.read_bytes())
    return staged


class Renderer:
    """What the render workers need: made before they fork, so that they inherit it (the
    pages too: each task is then a span of them, not pickled pages with their article
    records, tens of megabytes across a large site). Each process then opens its own Jinja
    environment and its own read-only connection to the body store (`start`)."""

    def __init__(
        self,
        templates: Path,
        site: theme.Site,
        cache_path: Path,
        output: Path,
        pages: Sequence[Page],
        in_place: bool = False,
    ) -> None:
        self.templates, self.site, self.cache_path = templates, site, cache_path
        self.output, self.pages, self.in_place = output, pages, in_place
        self.env: jinja2.Environment | None = None
        self.bodies: BodyReader | None = None
        self.media: media.Media | None = None
        self.compress = False

    def start(self) -> None:
        """In each process that renders, before its first span."""
        from newsgen import render  # Jinja: only for builds that render

        self.env = render.environment(self.templates, self.site, self.cache_path.parent / "jinja")
        self.bodies = BodyReader(self.cache_path)

    def span(self, span: tuple[int, int]) -> tuple[list[write.Staged], set[str]]:
        """Render pages `span[0]` to `span[1]` (see `render`)."""
        return self.render(self.pages[span[0] : span[1]])

    def packed(self, pages: Sequence[Page]) -> tuple[list[write.Staged], set[str]]:
        """Render `pages`, sent pickled to a worker forked before they were planned (see
        render_workers)."""
        from newsgen import render

        if self.env is None:
            self.start()
        assert self.env is not None
        partial = self.env.globals["partial"]
        assert isinstance(partial, render.Partials)
        # A partial's renderings are kept by the identity of its values: the articles of
        # another span are other objects, so the renderings of this one's are dropped.
        partial.forget()
        return self.render(pages)

    def render(self, pages: Sequence[Page]) -> tuple[list[write.Staged], set[str]]:
        """Render `pages` and stage (or, in place, write) their files (with their compressed
        copies, when `compress`); returns the files staged and the other origins the pages
        load images from. Files written in place have nothing left to commit: none is sent
        back (the parent of a cold build held a path for each of its files)."""
        from newsgen import render

        assert self.env is not None and self.bodies is not None
        bodies = self.bodies
        shown = bodies.get_many(page.article.body_key for page in pages if page.article)

        def body_of(article: Article) -> str:
            body = shown.get(article.body_key)
            return bodies.get(article.body_key) if body is None else body[0]

        staged = []
        hosts: set[str] = set()
        save = write.put if self.in_place else write.stage
        for page in pages:
            data = render.render_page(self.env, with_related(page, shown), body_of)
            if self.media is not None:
                data = with_media(data, page, self.media)
            path = write.target_path(self.output, url_to_path(page.url))
            staged.append(save(path, data))
            if self.compress:
                staged += [
                    save(path + suffix, copy) for suffix, copy in write.compressed(path, data)
                ]
            if _is_html(page.url):
                hosts |= headers.image_hosts(data)
        return ([] if self.in_place else staged), hosts


def with_related(page: Page, bodies: Mapping[str, Body]) -> Page:
    """An article's page with its article's related images, which come with its body (see
    stored_body)."""
    article = page.article
    body = bodies.get(article.body_key) if article and page.kind == "article" else None
    if article is None or body is None or not body[1]:
        return page
    return replace(page, article=replace(article, related=body[1]))


def with_media(data: bytes, page: Page, mirror: media.Media) -> bytes:
    """A rendered page with its images as the media store has them (see media.rewrite)."""
    if not mirror.publishes():  # nothing to change but the theme's own `data-sizes`
        return media.rewrite(data.decode(), mirror).encode() if b" data-sizes=" in data else data
    image = page.article.image if page.article and page.kind == "article" else None
    if b"<img" not in data and not (image and mirror.find(image)):
        return data
    return media.rewrite(data.decode(), mirror, image).encode()


RENDER_SPAN = 64
LISTING_SPAN = 256
# A page that lists more URLs renders alone (a sitemap's parts hold up to 50,000 each): the 24
# parts of 1,000,000 articles' sitemap, all in one span, made the worker that drew them
# 180 MB bigger than the other.
ALONE_URLS = 1_000


@dataclass(frozen=True, slots=True)
class RenderWorkers:
    """Render workers forked early (see render_workers), with the renderer they run."""

    renderer: Renderer
    pool: parallel.Workers

    def close(self) -> None:
        self.pool.close()


def render_workers(run: Run, mirror: media.Media, articles: int) -> RenderWorkers | None:
    """Render workers forked now, before the site's `articles` are read and planned (and,
    for a cold build, before they are scanned), for a build of many on more than one core
    (else None). Forked after the plan, each of them ended up with a private copy of most
    of the heap it inherited: 790 of a cold build's 1,250 MB at 100,000 articles. These
    are sent their pages pickled instead."""
    if run.jobs <= 1 or articles < parallel.MIN_PARALLEL:
        return None
    config = run.config
    renderer = Renderer(
        config.source_dir("templates"),
        site_info(config),
        run.cache.path,
        run.folder.into,
        (),
        run.folder.new,
    )
    renderer.media = mirror
    renderer.compress = config.compress
    return RenderWorkers(renderer, parallel.Workers(renderer.packed, run.jobs))


def render_order(
    pages: Sequence[Page], packed: bool = False
) -> tuple[list[Page], list[tuple[int, int]]]:
    """The pages in the order workers take them, and the spans a worker takes at a time.
    The pages that list articles (listings, feeds, the sitemap) come first, as one span: one
    worker draws them all, and so each article's teaser once (the partial cache is per
    process), while the others start on the article pages, 64 at a time.

    When `packed` (pages sent to the workers pickled, see render_workers), the listings
    are cut into spans of LISTING_SPAN pages, in the order of the newest article each
    shows: a span then holds most of the listings that show the same articles (the home
    page's, the month's, the language's), and a teaser is drawn about twice rather than
    once, while no worker holds every article and its teaser.

    A page that lists thousands of URLs is a span of its own (see ALONE_URLS)."""
    listing = [p for p in pages if p.articles]
    if packed:
        listing.sort(key=lambda p: max(a.order for a in p.articles))
    ordered = listing + [p for p in pages if not p.articles]
    size = LISTING_SPAN if packed else max(len(listing), 1)
    spans = [(start, min(start + size, len(listing))) for start in range(0, len(listing), size)]
    return ordered, spans + _page_spans(ordered, len(listing))


def _page_spans(pages: Sequence[Page], start: int) -> list[tuple[int, int]]:
    """The spans of `pages` from `start` on: RENDER_SPAN pages each, but a page that lists
    more than ALONE_URLS URLs (a sitemap) alone."""
    alone = [i for i in range(start, len(pages)) if len(pages[i].urls) > ALONE_URLS]
    spans = []
    for end in [*alone, len(pages)]:
        spans += [(s, min(s + RENDER_SPAN, end)) for s in range(start, end, RENDER_SPAN)]
        if end < len(pages):
            spans.append((end, end + 1))
        start = end + 1
    return spans
