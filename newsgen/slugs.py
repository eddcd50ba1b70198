"""The slug rule: the last part of an article's URL, and of place and tag pages, from text;
and the article URL it makes.

Slugs are URLs, kept for ever in `urls.yaml`: this rule may not change without a redirect.
"""

from __future__ import annotations

import sys

SLUG_LENGTH = 80


def make_slug(text: str, limit: int = SLUG_LENGTH) -> str:
    """python-slugify, then cut at the last whole word within `limit` characters
    (slugify's own `word_boundary` drops words from the middle). A typographic apostrophe
    separates words as the ASCII one does: "dell’anno" gives "dell-anno". The transliterator
    is named: slugs are URLs, and "auto" would change them when Unidecode gets installed (and
    tries to import it on every call)."""
    from slugify import slugify  # imported when first needed: a build may plan nothing

    slug = slugify(text.replace("’", "'"), backend="text-unidecode")
    if len(slug) <= limit:
        return slug
    head = slug[: limit + 1]
    return head.rsplit("-", 1)[0] if "-" in head[1:] else slug[:limit]


def numbered(slug: str, n: int) -> str:
    """`slug-n`, still within the length limit and cut at a word boundary."""
    suffix = f"-{n}"
    return make_slug(slug, SLUG_LENGTH - len(suffix)) + suffix


def article_url(slug: str) -> str:
    # Interned, as are the URLs of the registry (newsgen.urls): the two are one string for
    # each article, not two.
    return sys.intern(f"/articles/{slug}/")


def article_slug(url: str) -> str | None:
    """The slug of an article page's URL; None for any other page."""
    head, _, rest = url.partition("/articles/")
    return rest[:-1] if not head and rest.endswith("/") and rest.count("/") == 1 else None
