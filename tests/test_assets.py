"""Assets named by their content: `/assets/style.css` is published as
`/assets/style.<hash8>.css`, templates reach it through `asset()` (or `url()`), a site's own
assets override the theme's and are named the same way, and an asset that names another
(CSS `url()` and `@import`, `assets/<name>` in any text asset) names its published file."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import jinja2
import pytest

from newsgen import theme
from tests.conftest import MakeSite, build_site

SEED = {"seeds/a.txt": "Roma – Il consiglio ha approvato il bilancio della città.\n"}


def published(output: Path) -> dict[str, str]:
    """The published assets, by their name without the hash."""
    found = {}
    for path in (output / "assets").rglob("*"):
        if path.is_file():
            name = path.relative_to(output / "assets").as_posix()
            found[re.sub(r"\.[0-9a-f]{8}(\.[^./]+)?$", r"\1", name)] = name
    return found


def test_every_asset_is_named_by_the_hash_of_its_bytes(make_site: MakeSite) -> None:
    config, _ = build_site(make_site(SEED))
    output = config.output_dir
    names = published(output)
    assert sorted(names) == ["feed.xsl", "icon.svg", "search.css", "search.js", "style.css"]
    for plain, name in names.items():
        data = (output / "assets" / name).read_bytes()
        stem, extension = plain.rsplit(".", 1)
        assert name == f"{stem}.{hashlib.sha256(data).hexdigest()[:8]}.{extension}"
    page = (output / "index.html").read_text()
    assert f'href="/assets/{names["style.css"]}"' in page
    assert f'href="/assets/{names["icon.svg"]}"' in page
    assert f'src="/assets/{names["search.js"]}"' in (output / "search/index.html").read_text()
    assert f'href="/assets/{names["feed.xsl"]}"' in (output / "feed.xml").read_text()
    assert not (output / "assets" / "style.css").exists()


def test_a_sites_assets_override_the_theme_and_resolve_from_its_css(
    make_site: MakeSite,
) -> None:
    """The site's style.css imports a CSS file and uses a font and an image by relative URL;
    each is published under its hashed name, and the CSS names those."""
    site = make_site(
        {
            **SEED,
            "templates/static/assets/style.css": (
                '@import "parts/base.css";\n'
                '@font-face { font-family: A; src: url("fonts/a.woff2") format("woff2"); }\n'
                "body { background: url(img/bg.png?v=1#top) }\n"
                "a { background: url(data:image/png;base64,AA) }\n"
                ".x { background: url(https://example.org/x.png) }\n"
            ),
            "templates/static/assets/parts/base.css": "h1 { background: url(../img/bg.png) }\n",
            "templates/static/assets/fonts/a.woff2": b"wOF2 font",
            "templates/static/assets/img/bg.png": b"\x89PNG image",
            "templates/static/favicon.ico": b"icon",
        }
    )
    config, _ = build_site(site)
    output = config.output_dir
    names = published(output)
    style = (output / "assets" / names["style.css"]).read_text()
    part = (output / "assets" / names["parts/base.css"]).read_text()
    font, image = names["fonts/a.woff2"], names["img/bg.png"]
    assert f'@import "{names["parts/base.css"]}";' in style
    assert f'url("{font}")' in style
    assert f"url({image}?v=1#top)" in style
    assert "url(data:image/png;base64,AA)" in style
    assert "url(https://example.org/x.png)" in style
    assert f"url(../{image})" in part
    assert (output / "favicon.ico").read_bytes() == b"icon"  # outside assets/: its own name
    # The hash is of the published bytes: a new font renames the font and the CSS naming it.
    (site / "templates/static/assets/fonts/a.woff2").write_bytes(b"wOF2 another font")
    build_site(site)
    again = published(output)
    assert again["fonts/a.woff2"] != font
    assert again["style.css"] != names["style.css"]
    assert again["parts/base.css"] == names["parts/base.css"]
    assert not (output / "assets" / font).exists()


def test_a_template_names_assets_through_asset_or_url(make_site: MakeSite) -> None:
    site = make_site(
        {
            **SEED,
            "templates/static/assets/app.min.js": "console.log(1);\n",
            "templates/static/assets/README": "no extension\n",
            "templates/partials/footer.html": (
                "<footer><script src=\"{{ asset('app.min.js') }}\"></script>"
                "<a href=\"{{ url('/assets/README') }}\">r</a></footer>\n"
            ),
        }
    )
    config, _ = build_site(site)
    page = (config.output_dir / "index.html").read_text()
    assert re.search(r'src="/assets/app\.min\.[0-9a-f]{8}\.js"', page)
    assert re.search(r'href="/assets/README\.[0-9a-f]{8}"', page)


def test_an_unknown_asset_is_an_error_naming_it(make_site: MakeSite) -> None:
    site = make_site(
        {**SEED, "templates/partials/footer.html": "<footer>{{ asset('nope.css') }}</footer>\n"}
    )
    with pytest.raises(jinja2.TemplateRuntimeError) as error:
        build_site(site)
    assert "asset('nope.css'): no such file in the site's templates/static/assets/ or the " in (
        str(error.value)
    )


def test_assets_that_name_each_other_are_named_in_one_way(tmp_path: Path) -> None:
    """A cycle (a.css imports b.css, which imports a.css): the same names every time."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "a.css").write_text('@import "b.css";\n')
    (tmp_path / "assets" / "b.css").write_text('@import "a.css";\n')
    found = {
        "/assets/a.css": tmp_path / "assets" / "a.css",
        "/assets/b.css": tmp_path / "assets" / "b.css",
    }
    first = theme.assets(found)
    assert first == theme.assets(dict(reversed(found.items())))
    b = first.urls["/assets/b.css"]
    assert (
        first.data[first.urls["/assets/a.css"]] == f'@import "{b[len("/assets/") :]}";\n'.encode()
    )


def test_a_css_comment_naming_an_asset_does_not_tie_the_names(tmp_path: Path) -> None:
    """The theme's style.css mentions assets/search.js in a comment: a new search.js must not
    rename style.css (and so change every page)."""
    (tmp_path / "assets").mkdir()
    style, script = tmp_path / "assets" / "style.css", tmp_path / "assets" / "search.js"
    style.write_text("/* drawn by assets/search.js */\nbody { background: url(search.js) }\n")
    script.write_text("let a = 1;\n")
    found = {"/assets/style.css": style, "/assets/search.js": script}
    first = theme.assets(found)
    data = first.data[first.urls["/assets/style.css"]].decode()
    assert data.startswith("/* drawn by assets/search.js */\n")
    assert f"url({first.urls['/assets/search.js'].removeprefix('/assets/')})" in data
    script.write_text("let a = 2;\n")
    second = theme.assets(found)
    assert second.urls["/assets/search.js"] != first.urls["/assets/search.js"]
    # Named in code, the new name renames the CSS; named in a comment only, it would not.
    assert second.urls["/assets/style.css"] != first.urls["/assets/style.css"]
    style.write_text("/* drawn by assets/search.js */\nbody { margin: 0 }\n")
    third = theme.assets(found)
    script.write_text("let a = 3;\n")
    assert theme.assets(found).urls["/assets/style.css"] == third.urls["/assets/style.css"]
