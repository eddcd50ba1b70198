"""docs/themes.md's template context reference against what templates receive.

One build of the sample site whose every template is replaced by a probe that reports, per
page, each documented name (`name is defined`), the names the page's context really holds, the
filters and tests of the environment and which fields of `page` are set. A name documented but
not given fails, and so does one given but not documented. Also: every relative link of the
README and the manual leads to a file (and a heading) that exists.
"""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.filters import FILTERS
from jinja2.tests import TESTS

from newsgen import plan
from newsgen.plan import Link, Page, Pager, Redirect
from newsgen.records import Article, Image
from newsgen.theme import THEME, Site
from tests.conftest import REPO, SAMPLE, build_site

THEMES_DOC = REPO / "docs" / "themes.md"
RECORDS = {"Page": Page, "Article": Article, "Image": Image, "Link": Link}
RECORDS |= {"Pager": Pager, "Redirect": Redirect, "Site": Site}
_BULLET = re.compile(r"^- `([^`]+)`")
_CODE = re.compile(r"`([^`]*)`")


@dataclasses.dataclass(frozen=True)
class Reference:
    variables: tuple[str, ...]
    globals: tuple[str, ...]
    filters: tuple[str, ...]
    records: dict[str, tuple[str, ...]]
    kinds: dict[tuple[str, str], frozenset[str]]  # (kind, template) -> fields of page set


def sections(text: str) -> dict[str, list[str]]:
    """The lines under each `###`/`####` heading of the "Template context" section."""
    context = text.split("\n## Template context\n", 1)[1].split("\n## ", 1)[0]
    found: dict[str, list[str]] = defaultdict(list)
    heading = ""
    for line in context.splitlines():
        if line.startswith("###"):
            heading = line.lstrip("#").strip().strip("`")
        elif heading:
            found[heading].append(line)
    return found


def bullets(lines: list[str]) -> tuple[str, ...]:
    return tuple(m[1] for line in lines if (m := _BULLET.match(line)))


def kinds_table(lines: list[str]) -> dict[tuple[str, str], frozenset[str]]:
    rows = [line for line in lines if line.startswith("| `")]
    table = {}
    for row in rows:
        kind, template, _, fields = (cell.strip() for cell in row.strip("|").split("|"))
        key = (_CODE.findall(kind)[0].strip('"'), _CODE.findall(template)[0])
        assert key not in table, f"{key} twice in the page kinds table"
        table[key] = frozenset(_CODE.findall(fields))
    return table


def reference() -> Reference:
    found = sections(THEMES_DOC.read_text(encoding="utf-8"))
    return Reference(
        variables=bullets(found["Variables"]),
        globals=bullets(found["Globals"]),
        filters=bullets(found["Filters"]),
        records={name: bullets(found[name]) for name in RECORDS},
        kinds=kinds_table(found["Page kinds"]),
    )


def probe(ref: Reference) -> str:
    """A template that writes `key=value` lines about the page it draws."""
    context = "self._TemplateReference__context"
    lines = [
        "PROBE",
        "kind={{ page.kind }}",
        "template={{ page.template }}",
        f"given={{{{ {context}.get_all().keys() | sort | join(' ') }}}}",
        f"filters={{{{ {context}.environment.filters.keys() | sort | join(' ') }}}}",
        f"tests={{{{ {context}.environment.tests.keys() | sort | join(' ') }}}}",
    ]
    lines += [f"defined.{n}={{{{ {n} is defined }}}}" for n in ref.variables + ref.globals]
    lines += [f"defined.site.{f}={{{{ site.{f} is defined }}}}" for f in ref.records["Site"]]
    for field in ref.records["Page"]:
        lines.append(f"defined.page.{field}={{{{ page.{field} is defined }}}}")
        lines.append(
            f"set.{field}={{{{ page.{field} is defined and (true if page.{field} else false) }}}}"
        )
    lines += [
        # trim_blocks drops the newline after `endif`: the line's own is inside the `if`.
        f"{{% if page.article %}}defined.article.{f}={{{{ page.article.{f} is defined }}}}\n"
        "{% endif %}"
        for f in ref.records["Article"]
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Reference, list[dict[str, str]]]:
    """The sample site, with an undated article holding an alias (the undated listing, a
    redirect page and `_redirects`) and another whose headline shares its words (related
    articles, which the sample's have none of), and a sitemap limit of 10 (the sitemap
    index), built once with a probe in place of every template: what each written page
    reported."""
    ref = reference()
    site = tmp_path_factory.mktemp("context") / "site"
    shutil.copytree(SAMPLE, site)
    (site / "articles" / "undated-note.md").write_text(
        "---\ntitle: A note on Lake Toba without a date\naliases: [/old/note.html]\n---\n"
        "Some text.\n",
        encoding="utf-8",
    )
    (site / "articles" / "another-note.md").write_text(
        "---\ntitle: Another note on Lake Toba without a date\n---\nMore text.\n",
        encoding="utf-8",
    )
    text = probe(ref)
    theme = THEME / "templates"
    for source in theme.rglob("*"):
        if source.is_file() and source.parent == theme:
            (site / "templates" / source.name).parent.mkdir(exist_ok=True)
            (site / "templates" / source.name).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "SITEMAP_LIMIT", 10)
        config, result = build_site(site)
    assert result.problems == ()
    reports = []
    for path in sorted(config.output_dir.rglob("*")):
        if path.is_file() and path.read_bytes().startswith(b"PROBE\n"):
            lines = path.read_text(encoding="utf-8").splitlines()[1:]
            reports.append({k: html.unescape(v) for k, v in (line.split("=", 1) for line in lines)})
    return ref, reports


def test_every_documented_page_kind_is_drawn_and_every_drawn_one_documented(
    probed: tuple[Reference, list[dict[str, str]]],
) -> None:
    ref, reports = probed
    drawn = {(r["kind"], r["template"]) for r in reports}
    assert drawn == set(ref.kinds)


def test_every_documented_name_is_defined_on_every_page(
    probed: tuple[Reference, list[dict[str, str]]],
) -> None:
    _, reports = probed
    undefined = {
        (report["template"], key)
        for report in reports
        for key, value in report.items()
        if key.startswith("defined.") and value != "True"
    }
    assert undefined == set()


def test_every_name_a_page_is_given_is_documented(
    probed: tuple[Reference, list[dict[str, str]]],
) -> None:
    ref, reports = probed
    documented = set(ref.variables + ref.globals)
    for report in reports:
        given = set(report["given"].split()) - set(DEFAULT_NAMESPACE)
        assert (report["template"], given) == (report["template"], documented)


def test_the_filters_and_tests_are_jinjas_and_the_documented_ones(
    probed: tuple[Reference, list[dict[str, str]]],
) -> None:
    ref, reports = probed
    for report in reports:
        assert set(report["filters"].split()) - set(FILTERS) == set(ref.filters)
        assert set(report["tests"].split()) == set(TESTS)


def test_the_fields_set_on_each_page_kind_are_those_documented(
    probed: tuple[Reference, list[dict[str, str]]],
) -> None:
    ref, reports = probed
    fields = ref.records["Page"]
    set_on: dict[tuple[str, str], set[str]] = defaultdict(set)
    for report in reports:
        key = (report["kind"], report["template"])
        set_on[key] |= {f for f in fields if report[f"set.{f}"] == "True"}
    assert dict(set_on) == {key: set(documented) for key, documented in ref.kinds.items()}


def test_the_documented_fields_of_each_record_are_its_fields() -> None:
    documented = reference().records
    for name, record in RECORDS.items():
        assert (name, documented[name]) == (name, tuple(f.name for f in dataclasses.fields(record)))


# --- links of the README and the manual -------------------------------------------------------

_LINK = re.compile(r"\]\(([^)\s]+)\)")
DOCUMENTS = [REPO / "README.md", REPO / "benchmarks" / "README.md"]
DOCUMENTS += sorted((REPO / "docs").glob("*.md"))


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    found = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        in_code = in_code != line.startswith("```")
        if not in_code and line.startswith("#"):
            heading = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", heading).replace(" ", "-"))
    return found


def broken_links(document: Path) -> list[str]:
    broken = []
    text = re.sub(r"`[^`\n]*`", "", document.read_text(encoding="utf-8"))  # code, not links
    for target in _LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        file, _, fragment = target.partition("#")
        path = (document.parent / file).resolve() if file else document
        if not path.exists() or (
            fragment and path.suffix == ".md" and fragment not in anchors(path)
        ):
            broken.append(target)
    return broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(document: Path) -> None:
    assert broken_links(document) == []


def test_the_link_check_sees_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A page\n\n## Some `code`: here\n", encoding="utf-8")
    text = "[ok](a.md#some-code-here) [no](b.md) [no](c.md#x) [no](a.md#nowhere) [web](https://x.org/b.md)\n"
    (tmp_path / "doc.md").write_text(text, encoding="utf-8")
    assert broken_links(tmp_path / "doc.md") == ["b.md", "c.md#x", "a.md#nowhere"]


def test_the_reference_parser_reads_bullets_and_the_kinds_table() -> None:
    lines = ["- `page` — the page", "text `not` a name", '| `""` | `_redirects` | x | `url` |']
    assert bullets(lines) == ("page",)
    assert kinds_table(lines) == {("", "_redirects"): frozenset({"url"})}
