"""Interface strings in the reader's language (it, en, fr, de, es; English as the fallback)
and dates formatted by Babel."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel import Locale
    from babel.dates import DateTimePattern

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "archive": "Archive",
        "places": "Places",
        "tags": "Tags",
        "search": "Search",
        "feed": "Feed",
        "home": "Home",
        "previous": "Previous",
        "next": "Next",
        "older": "Older",
        "newer": "Newer",
        "related": "Related articles",
        "undated": "Undated",
        "page_of": "Page {n} of {count}",
        "skip": "Skip to content",
        "latest": "Latest articles",
        "articles": "articles",
        "not_found": "Page not found",
        "not_found_text": "The page you asked for is not here. Try the archive or the search.",
        "by_place": "Articles by place",
        "by_tag": "Articles by tag",
        "by_year": "Articles by year",
        "pagination": "Pagination",
        "breadcrumbs": "Breadcrumbs",
        "article_nav": "More articles",
        "no_articles": "No articles yet.",
        "published": "Published",
        "months": "Months",
        "search_needs_js": "Search needs JavaScript. Browse the archive instead.",
        "search_label": "Search the archive",
        "main_nav": "Main",
        "languages": "Languages",
        "by_language": "Articles by language",
        "source_images": "Images from the source page",
        "page_n": "Page {n}",
        "reading_time": "{n} min read",
        "back_to_top": "Back to top",
        "older_period": "Earlier",
        "newer_period": "Later",
        "language": "Language",
        "browse": "Browse",
        "draft": "Draft",
    },
    "it": {
        "archive": "Archivio",
        "places": "Luoghi",
        "tags": "Argomenti",
        "search": "Cerca",
        "feed": "Feed",
        "home": "Home",
        "previous": "Precedente",
        "next": "Successivo",
        "older": "Meno recenti",
        "newer": "Più recenti",
        "related": "Articoli correlati",
        "undated": "Senza data",
        "page_of": "Pagina {n} di {count}",
        "skip": "Vai al contenuto",
        "latest": "Ultimi articoli",
        "articles": "articoli",
        "not_found": "Pagina non trovata",
        "not_found_text": "La pagina richiesta non esiste. Prova l'archivio o la ricerca.",
        "by_place": "Articoli per luogo",
        "by_tag": "Articoli per argomento",
        "by_year": "Articoli per anno",
        "pagination": "Paginazione",
        "breadcrumbs": "Percorso",
        "article_nav": "Altri articoli",
        "no_articles": "Ancora nessun articolo.",
        "published": "Pubblicato",
        "months": "Mesi",
        "search_needs_js": "La ricerca richiede JavaScript. Consulta invece l'archivio.",
        "search_label": "Cerca nell'archivio",
        "main_nav": "Principale",
        "languages": "Lingue",
        "by_language": "Articoli per lingua",
        "source_images": "Immagini dalla pagina originale",
        "page_n": "Pagina {n}",
        "reading_time": "Lettura: {n} min",
        "back_to_top": "Torna su",
        "older_period": "Prima",
        "newer_period": "Dopo",
        "language": "Lingua",
        "browse": "Sfoglia",
        "draft": "Bozza",
    },
    "fr": {
        "archive": "Archives",
        "places": "Lieux",
        "tags": "Sujets",
        "search": "Rechercher",
        "feed": "Flux",
        "home": "Accueil",
        "previous": "Précédent",
        "next": "Suivant",
        "older": "Plus anciens",
        "newer": "Plus récents",
        "related": "Articles liés",
        "undated": "Sans date",
        "page_of": "Page {n} sur {count}",
        "skip": "Aller au contenu",
        "latest": "Derniers articles",
        "articles": "articles",
        "not_found": "Page introuvable",
        "not_found_text": "La page demandée n'existe pas. Essayez les archives ou la recherche.",
        "by_place": "Articles par lieu",
        "by_tag": "Articles par sujet",
        "by_year": "Articles par année",
        "pagination": "Pagination",
        "breadcrumbs": "Fil d'Ariane",
        "article_nav": "Autres articles",
        "no_articles": "Aucun article pour l'instant.",
        "published": "Publié",
        "months": "Mois",
        "search_needs_js": "La recherche nécessite JavaScript. Parcourez plutôt les archives.",
        "search_label": "Rechercher dans les archives",
        "main_nav": "Principal",
        "languages": "Langues",
        "by_language": "Articles par langue",
        "source_images": "Images de la page d’origine",
        "page_n": "Page {n}",
        "reading_time": "Lecture : {n} min",
        "back_to_top": "Haut de page",
        "older_period": "Avant",
        "newer_period": "Après",
        "language": "Langue",
        "browse": "Parcourir",
        "draft": "Brouillon",
    },
    "de": {
        "archive": "Archiv",
        "places": "Orte",
        "tags": "Themen",
        "search": "Suche",
        "feed": "Feed",
        "home": "Startseite",
        "previous": "Zurück",
        "next": "Weiter",
        "older": "Ältere",
        "newer": "Neuere",
        "related": "Verwandte Artikel",
        "undated": "Ohne Datum",
        "page_of": "Seite {n} von {count}",
        "skip": "Zum Inhalt springen",
        "latest": "Neueste Artikel",
        "articles": "Artikel",
        "not_found": "Seite nicht gefunden",
        "not_found_text": "Die Seite gibt es nicht. Versuchen Sie das Archiv oder die Suche.",
        "by_place": "Artikel nach Ort",
        "by_tag": "Artikel nach Thema",
        "by_year": "Artikel nach Jahr",
        "pagination": "Seitennavigation",
        "breadcrumbs": "Brotkrümelnavigation",
        "article_nav": "Weitere Artikel",
        "no_articles": "Noch keine Artikel.",
        "published": "Veröffentlicht",
        "months": "Monate",
        "search_needs_js": "Die Suche braucht JavaScript. Stöbern Sie stattdessen im Archiv.",
        "search_label": "Archiv durchsuchen",
        "main_nav": "Hauptmenü",
        "languages": "Sprachen",
        "by_language": "Artikel nach Sprache",
        "source_images": "Bilder der Originalseite",
        "page_n": "Seite {n}",
        "reading_time": "Lesezeit: {n} Min.",
        "back_to_top": "Nach oben",
        "older_period": "Früher",
        "newer_period": "Später",
        "language": "Sprache",
        "browse": "Durchsuchen",
        "draft": "Entwurf",
    },
    "es": {
        "archive": "Archivo",
        "places": "Lugares",
        "tags": "Temas",
        "search": "Buscar",
        "feed": "Feed",
        "home": "Inicio",
        "previous": "Anterior",
        "next": "Siguiente",
        "older": "Más antiguos",
        "newer": "Más recientes",
        "related": "Artículos relacionados",
        "undated": "Sin fecha",
        "page_of": "Página {n} de {count}",
        "skip": "Saltar al contenido",
        "latest": "Últimos artículos",
        "articles": "artículos",
        "not_found": "Página no encontrada",
        "not_found_text": "La página solicitada no existe. Pruebe el archivo o la búsqueda.",
        "by_place": "Artículos por lugar",
        "by_tag": "Artículos por tema",
        "by_year": "Artículos por año",
        "pagination": "Paginación",
        "breadcrumbs": "Ruta de navegación",
        "article_nav": "Más artículos",
        "no_articles": "Aún no hay artículos.",
        "published": "Publicado",
        "months": "Meses",
        "search_needs_js": "La búsqueda necesita JavaScript. Consulte el archivo.",
        "search_label": "Buscar en el archivo",
        "main_nav": "Principal",
        "languages": "Idiomas",
        "by_language": "Artículos por idioma",
        "source_images": "Imágenes de la página original",
        "page_n": "Página {n}",
        "reading_time": "Lectura: {n} min",
        "back_to_top": "Volver arriba",
        "older_period": "Antes",
        "newer_period": "Después",
        "language": "Idioma",
        "browse": "Explorar",
        "draft": "Borrador",
    },
}


def translate(lang: str, key: str, **values: object) -> str:
    """The string for `key` in `lang` (or its base language), else English."""
    table = STRINGS.get(lang) or STRINGS.get(lang.split("-")[0]) or STRINGS["en"]
    text = table.get(key) or STRINGS["en"][key]
    return text.format(**values) if values else text


@cache
def _locale(lang: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(lang.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return "en"


@cache
def format_date(value: dt.date, lang: str) -> str:
    """'29 marzo 2022', '3 juillet 2012', 'March 29, 2022': Babel's `format_date` with the
    long format, whose locale and pattern are looked up once per language, not per date
    (half its cost, in every worker that draws pages)."""
    pattern, locale = _long_date(lang)
    return str(pattern.apply(value, locale))


@cache
def _long_date(lang: str) -> tuple[DateTimePattern, Locale]:
    from babel import Locale
    from babel.dates import get_date_format

    locale = Locale.parse(_locale(lang))
    return get_date_format("long", locale=locale), locale


@cache
def month_name(month: int, lang: str) -> str:
    """The stand-alone month name, capitalised: 'Marzo', 'Juillet'."""
    from babel.dates import get_month_names

    name = str(get_month_names("wide", context="stand-alone", locale=_locale(lang))[month])
    return name[:1].upper() + name[1:]


@cache
def language_name(code: str, lang: str) -> str:
    """The name of language `code` in language `lang`, capitalised: 'Francese', 'French';
    the code itself for a language Babel does not know."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(_locale(lang)) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]


@cache
def locale_tag(lang: str) -> str:
    """OpenGraph's `og:locale` form: `it_IT`, `en_US`."""
    from babel import Locale

    locale = Locale.parse(_locale(lang))
    territory = locale.territory or (Locale.parse(_likely(locale.language)).territory or "")
    return f"{locale.language}_{territory}" if territory else locale.language


def _likely(language: str) -> str:
    from babel.core import get_global

    return str(get_global("likely_subtags").get(language, language))


@cache
def text_direction(lang: str) -> str:
    from babel import Locale

    order = str(Locale.parse(_locale(lang)).character_order)
    return "rtl" if order == "right-to-left" else "ltr"
