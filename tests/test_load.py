"""Stage 1, load: bytes to Drafts, one rule of DESIGN.md's "Inputs" at a time."""

from __future__ import annotations

import codecs
import csv
from dataclasses import replace
from pathlib import Path

import pytest

from newsgen import load
from newsgen.load import (
    decode,
    find_dateline,
    merge,
    pair_curated,
    parse_curated,
    parse_seed,
    seed_id,
    text_id,
)
from newsgen.markup import parse_image_line, split_credit
from newsgen.records import Draft, FrontMatter, Image, Problem

NOT_TEXT = "file is not text (NUL bytes); skipped"
CASES = Path(__file__).resolve().parent / "data" / "cases"
SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_4c3b1bedbc3a3e95.txt"


def seed(text: str, name: str = "seeds/a.txt") -> Draft:
    draft, problems = parse_seed(name, text.encode())
    assert problems == []
    assert draft is not None
    return draft


def case(name: str) -> tuple[Draft | None, list[Problem]]:
    return parse_seed(f"seeds/{name}", (CASES / name).read_bytes())


# --- the real seed ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_seed() -> Draft:
    draft, problems = parse_seed("seeds/000_4c3b1bedbc3a3e95.txt", SEED.read_bytes())
    assert problems == []
    assert draft is not None
    return draft


def test_seed_has_no_title_line(real_seed: Draft) -> None:
    assert real_seed.title is None


def test_seed_id_comes_from_its_name(real_seed: Draft) -> None:
    assert real_seed.id == "4c3b1bedbc3a3e95"


def test_seed_dateline_is_bruxelles_and_the_text_stays(real_seed: Draft) -> None:
    assert real_seed.dateline == "Bruxelles"
    assert real_seed.date_text is None
    assert real_seed.blocks[0].startswith("Bruxelles – Il governo federale del Belgio")


def test_seed_each_line_is_a_paragraph(real_seed: Draft) -> None:
    assert len(real_seed.blocks) == 6
    assert real_seed.blocks[1].startswith("Durante un dibattito")
    assert real_seed.blocks[5].startswith("L’Unione europea ha già invitato")
    assert all("\n" not in block for block in real_seed.blocks)
    assert real_seed.body_line == 1


def test_seed_related_block_splits_captions_and_credits(real_seed: Draft) -> None:
    assert real_seed.related == (
        Image(
            url="https://www.eunews.it/wp-content/uploads/2025/12/"
            "80e7e8f3-c691-4833-912d-fc86a6077194-350x250.jpg",
            caption="Valdis Dombrovskis e Stephanie Lose, 12/12/25",
            credit="Credit: Council of the EU",
        ),
        Image(
            url="https://www.eunews.it/wp-content/uploads/2025/12/van-kyr-350x250.png",
            caption="da sinistra: il ministro delle Finanze belga, Vincent van Peteghem, e il "
            "ministro delle Finanze greco, Kyriakos Pierrakakis. Sono i due candidati alla "
            "presidenza dell'eurogruppo",
            credit="foto: Wikimedia Commons",
        ),
    )


# --- encodings ----------------------------------------------------------------------------------


def test_bom_is_dropped() -> None:
    draft, problems = case("bom_utf8.txt")
    assert problems == []
    assert draft is not None
    assert draft.blocks == ("Roma – Primo paragrafo dell'articolo.", "Secondo paragrafo.")
    assert draft.dateline == "Roma"


@pytest.mark.parametrize("name", ["crlf_newlines.txt", "cr_newlines.txt"])
def test_crlf_and_cr_become_lf(name: str) -> None:
    draft, problems = case(name)
    assert problems == []
    assert draft is not None
    assert draft.blocks == ("Primo paragrafo.", "Secondo paragrafo.", "Terzo paragrafo.")


def test_cp1252_is_read_with_a_warning_naming_the_file() -> None:
    draft, problems = case("cp1252_quotes.txt")
    assert [str(p) for p in problems] == [
        "seeds/cp1252_quotes.txt:1: not UTF-8; read as cp1252; "
        "re-save the file as UTF-8 to be sure of the text"
    ]
    assert problems[0].level == "warning"
    assert draft is not None
    assert draft.blocks[0] == "Paris – Le ministre a déclaré « c’est fini » hier soir."


def test_latin1_is_read_with_a_warning_naming_the_file() -> None:
    draft, problems = case("latin1_accents.txt")
    assert [str(p) for p in problems] == [
        "seeds/latin1_accents.txt:1: not UTF-8; read as cp1252; "
        "re-save the file as UTF-8 to be sure of the text"
    ]
    assert draft is not None
    assert draft.dateline == "Genève"
    assert draft.blocks[1] == "Le président a quitté la salle."


def test_warning_names_the_line_of_the_first_bad_byte() -> None:
    data = "Prima riga.\nSeconda riga.\nCittà – è".encode("cp1252")
    _, problems = decode(data, "seeds/x.txt")
    assert [p.line for p in problems] == [3]


UNICODE_TEXT = "Titolo\r\n\r\nRoma – Città è bella 🎉.\r\nSecondo paragrafo.\r\n"


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE + UNICODE_TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + UNICODE_TEXT.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + UNICODE_TEXT.encode("utf-32-le"),
        codecs.BOM_UTF32_BE + UNICODE_TEXT.encode("utf-32-be"),
    ],
    ids=["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"],
)
def test_utf16_and_utf32_with_a_byte_order_mark_are_read_as_text(data: bytes) -> None:
    draft, problems = parse_seed("seeds/unicode.txt", data)
    assert problems == []
    assert draft is not None
    assert (draft.title, draft.dateline) == ("Titolo", "Roma")
    assert draft.blocks == ("Roma – Città è bella 🎉.", "Secondo paragrafo.")


def test_broken_utf16_is_read_with_a_warning_naming_the_line() -> None:
    lone = b"\x00\xd8"  # half of a surrogate pair, little-endian
    data = (
        codecs.BOM_UTF16_LE + "Uno.\nDue ".encode("utf-16-le") + lone + "tre.\n".encode("utf-16-le")
    )
    text, problems = decode(data, "seeds/broken.txt")
    assert text == "Uno.\nDue \ufffdtre.\n"
    assert [(str(p), p.level) for p in problems] == [
        (
            "seeds/broken.txt:2: not valid UTF-16; what could not be read shows as \ufffd; "
            "re-save the file as UTF-8",
            "warning",
        )
    ]


def test_a_nul_character_in_utf16_is_not_text() -> None:
    data = codecs.BOM_UTF16_LE + "Uno\x00due.\n".encode("utf-16-le")
    assert decode(data, "seeds/x.txt") == (
        None,
        [Problem(path="seeds/x.txt", line=1, level="error", message=NOT_TEXT)],
    )


def test_a_guessed_encoding_never_gives_half_of_a_surrogate_pair(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """UTF-7 decodes `+2AA-` to U+D800, which no UTF-8 file, id or page can hold."""
    monkeypatch.setattr(load, "_guess_encoding", lambda data: "utf-7")
    text, _ = decode(b"Caf\xe9 +2AA- ok.\n", "seeds/x.txt")
    assert text is not None
    text.encode("utf-8")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nul_bytes.txt", "seeds/nul_bytes.txt:1: file is not text (NUL bytes); skipped"),
        ("empty.txt", "seeds/empty.txt:1: file is empty; skipped"),
        ("empty_with_bom.txt", "seeds/empty_with_bom.txt:1: file is empty; skipped"),
        ("whitespace_only.txt", "seeds/whitespace_only.txt:1: file is empty; skipped"),
    ],
)
def test_files_without_text_are_skipped_with_a_clear_message(name: str, message: str) -> None:
    draft, problems = case(name)
    assert draft is None
    assert [(str(p), p.level) for p in problems] == [(message, "error")]


def test_a_file_of_only_images_is_skipped() -> None:
    draft, problems = parse_seed("seeds/i.txt", b"![a](https://x.org/a.jpg)\n")
    assert draft is None
    assert [str(p) for p in problems] == [
        "seeds/i.txt:1: file holds only images, no article text; skipped"
    ]


# --- names and ids --------------------------------------------------------------------------------


def test_scrape_names_carry_the_id() -> None:
    assert seed_id("017_0123456789abcdef.txt", "whatever") == "0123456789abcdef"


def test_other_names_get_the_hash_of_the_normalised_text() -> None:
    crlf, _ = parse_seed("seeds/news.txt", b"Uno.\r\nDue.\r\n")
    lf, _ = parse_seed("seeds/other.txt", b"Uno.\nDue.\n")
    assert crlf is not None and lf is not None
    assert crlf.id == lf.id == text_id("Uno.\nDue.\n")
    assert len(crlf.id) == 16


# --- paragraphs and Markdown blocks ---------------------------------------------------------------


def test_blank_line_paragraphs_are_paragraphs_too() -> None:
    assert seed("One.\n\nTwo\nThree.\n\n\nFour.\n").blocks == ("One.", "Two", "Three.", "Four.")


def test_list_items_stay_together() -> None:
    draft = seed("Intro.\n- uno\n- due\n  continued\n- tre\nAfter.\n")
    assert draft.blocks == ("Intro.", "- uno\n- due\n  continued\n- tre", "After.")


def test_ordered_list_stays_together() -> None:
    assert seed("Intro.\n1. one\n2. two\nAfter.\n").blocks == ("Intro.", "1. one\n2. two", "After.")


def test_table_rows_stay_together() -> None:
    draft = seed("Intro.\n| a | b |\n| --- | --- |\n| 1 | 2 |\nAfter.\n")
    assert draft.blocks == ("Intro.", "| a | b |\n| --- | --- |\n| 1 | 2 |", "After.")


def test_fenced_code_keeps_its_blank_lines() -> None:
    draft = seed("Intro.\n```\ncode one\n\ncode two\n```\nAfter.\n")
    assert draft.blocks == ("Intro.", "```\ncode one\n\ncode two\n```", "After.")


def test_block_quotes_stay_together() -> None:
    draft = seed("Intro.\n> first quoted\n> second quoted\nAfter.\n")
    assert draft.blocks == ("Intro.", "> first quoted\n> second quoted", "After.")


def test_images_in_the_body_stay_where_they_are() -> None:
    draft = seed("Intro.\n![A map [Credit: OSM]](https://x.org/map.png)\nAfter.\n")
    assert draft.blocks == ("Intro.", "![A map [Credit: OSM]](https://x.org/map.png)", "After.")
    assert draft.related == ()


# --- title line -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Belgio, espulsi 21 diplomatici russi",
        "Will the euro survive?",
        "Enough!",
        "«Non è una sanzione»",
        '"This is not a sanction"',
        "Le ministre dit « non »",
        "Und dann...",
        "1. FC Köln gewinnt das Derby",
        "x" * 150,
    ],
)
def test_title_line_is_kept(title: str) -> None:
    draft = seed(f"{title}\n\nRoma – Il testo.\nSecondo.\n")
    assert draft.title == title
    assert draft.blocks == ("Roma – Il testo.", "Secondo.")
    assert draft.dateline == "Roma"
    assert draft.body_line == 3


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Short line\nNext paragraph.\n", "no blank line after it"),
        ("A full sentence.\n\nNext paragraph.\n", "ends with a full stop"),
        ("x" * 151 + "\n\nNext paragraph.\n", "longer than 150 characters"),
        ("Only line\n", "nothing follows"),
        ("Elenco:\n\nuno.\n", "ends with a colon"),
        ("- uno\n\n- due\n", "a list item"),
        ("1. uno\n\n2. due\n", "a numbered list"),
        ("> quoted\n\nText.\n", "a quote"),
    ],
)
def test_first_line_is_not_a_title(text: str, why: str) -> None:
    draft = seed(text)
    assert draft.title is None, why
    assert draft.blocks[0] == text.split("\n", 1)[0]


def test_markdown_heading_is_a_title() -> None:
    draft = seed("# Un titolo\nIl testo.\n")
    assert (draft.title, draft.blocks) == ("Un titolo", ("Il testo.",))


def test_a_first_line_that_is_only_a_date_is_the_date() -> None:
    draft = seed("Sabato 26 gennaio 2013\n\nIl testo.\n")
    assert (draft.title, draft.date_text, draft.blocks) == (None, "26 gennaio 2013", ("Il testo.",))


def test_date_line_after_the_title_is_the_date() -> None:
    draft = seed("A title\n\nFriday, January 4, 2019\nLONDON – The text.\n")
    assert (draft.title, draft.date_text, draft.dateline) == (
        "A title",
        "January 4, 2019",
        "LONDON",
    )
    assert draft.blocks == ("LONDON – The text.",)


# --- datelines ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "place", "date", "rest"),
    [
        ("Bruxelles – Il governo", "Bruxelles", None, "Il governo"),
        ("Bruxelles - Il governo", "Bruxelles", None, "Il governo"),
        ("BRUXELLES — Il governo", "BRUXELLES", None, "Il governo"),
        ("Roma, 29 marzo 2022 – Il governo", "Roma", "29 marzo 2022", "Il governo"),
        ("Roma, sabato 29 marzo 2022 – Il", "Roma", "29 marzo 2022", "Il"),
        ("3 juillet 2012. - Québec - Le premier", "Québec", "3 juillet 2012", "Le premier"),
        ("1er novembre 2012. - Les dirigeants", None, "1er novembre 2012", "Les dirigeants"),
        ("29. März 2022 – Berlin – Die Regierung", "Berlin", "29. März 2022", "Die Regierung"),
        ("Berlin (dpa) – Die Regierung", "Berlin", None, "Die Regierung"),
        ("FRANKFURT/MAIN (dpa-AFX) - Die Börse", "FRANKFURT/MAIN", None, "Die Börse"),
        ("LONDON (Reuters) - The bank", "LONDON", None, "The bank"),
        ("Washington, D.C. – The Senate", "Washington, D.C.", None, "The Senate"),
        ("Madrid, 29 de marzo de 2022 – El", "Madrid", "29 de marzo de 2022", "El"),
        ("New York City – The mayor", "New York City", None, "The mayor"),
        ("L'Aquila – Il sindaco", "L'Aquila", None, "Il sindaco"),
        ("Reggio di Calabria – Il sindaco", "Reggio di Calabria", None, "Il sindaco"),
    ],
)
def test_dateline(text: str, place: str | None, date: str | None, rest: str) -> None:
    found_place, found_date, end = find_dateline(text)
    assert (found_place, found_date, text[end:]) == (place, date, rest)


@pytest.mark.parametrize(
    "text",
    [
        "Siamo testimoni - ha proseguito - delle conseguenze",
        "Il governo federale del Belgio ha annunciato che espellerà",
        "Il 7 marzo – disse – il Belgio",
        "Sono 21 – ventuno – i diplomatici",
        "Nessun trattino in questa frase lunga che parla di Bruxelles e di Roma.",
    ],
)
def test_no_dateline(text: str) -> None:
    assert find_dateline(text) == (None, None, 0)


def test_a_long_place_and_weekday_date_keep_their_dateline() -> None:
    # 43 characters before the dash: the search window must reach past 40.
    draft = seed(
        "Titolo della notizia\n\n"
        "Reggio di Calabria, sabato 29 marzo 2022 – Il sindaco ha firmato l'ordinanza.\n"
    )
    assert (draft.title, draft.dateline, draft.date_text) == (
        "Titolo della notizia",
        "Reggio di Calabria",
        "29 marzo 2022",
    )
    assert draft.blocks[0].startswith("Reggio di Calabria, sabato 29 marzo 2022 – Il sindaco")


def test_dateline_is_read_from_the_first_paragraph_only() -> None:
    draft = seed("Il testo comincia qui.\nRoma – Il secondo paragrafo.\n")
    assert draft.dateline is None


# --- related block --------------------------------------------------------------------------------


def test_nested_brackets_in_a_caption() -> None:
    image = parse_image_line(
        "![Lose, 12/12/25 [a [b] c] [Credit: Council of the EU]](https://x.org/i.jpg)"
    )
    assert image == Image(
        url="https://x.org/i.jpg",
        caption="Lose, 12/12/25 [a [b] c]",
        credit="Credit: Council of the EU",
    )


@pytest.mark.parametrize(
    ("group", "credit"),
    [
        ("[Credit: X Y]", "Credit: X Y"),
        ("[credit: X Y]", "credit: X Y"),
        ("[foto: X Y]", "foto: X Y"),
        ("[FOTO: X Y]", "FOTO: X Y"),
        ("[Photo: X Y]", "Photo: X Y"),
        ("[photo:X  Y ]", "photo: X Y"),
        ("[Bild: dpa]", "Bild: dpa"),
        ("[Crédit : AFP]", "Crédit: AFP"),
    ],
)
def test_credit_labels_in_any_case_are_kept_as_written(group: str, credit: str) -> None:
    assert split_credit(f"Una didascalia {group}") == ("Una didascalia", credit)


def test_a_credit_group_without_a_name_is_no_credit() -> None:
    assert split_credit("Una didascalia [Photo: ]") == ("Una didascalia", "")


def test_a_bracket_group_that_is_not_a_credit_stays_in_the_caption() -> None:
    assert split_credit("Il vertice [archivio]") == ("Il vertice [archivio]", "")


def test_credit_only_when_it_ends_the_caption() -> None:
    assert split_credit("[foto: Ansa] il vertice") == ("[foto: Ansa] il vertice", "")


@pytest.mark.parametrize(
    "line",
    ["![a](https://x.org/a.jpg) trailing", "text ![a](https://x.org/a.jpg)", "![a] (b)", "![a(b)"],
)
def test_not_an_image_line(line: str) -> None:
    assert parse_image_line(line) is None


def test_related_block_is_the_trailing_run_of_images_with_blank_lines() -> None:
    draft = seed(
        "Testo.\n![Nel testo](https://x.org/0.jpg)\nAncora testo.\n\n"
        "![Uno [foto: A]](https://x.org/1.jpg)\n\n\n![Due](https://x.org/2.jpg)\n\n"
    )
    assert draft.blocks == ("Testo.", "![Nel testo](https://x.org/0.jpg)", "Ancora testo.")
    assert draft.related == (
        Image(url="https://x.org/1.jpg", caption="Uno", credit="foto: A"),
        Image(url="https://x.org/2.jpg", caption="Due"),
    )


def test_image_url_with_a_title_and_angle_brackets() -> None:
    assert parse_image_line('![x](<https://x.org/a b.jpg> "t")') == Image(
        url="https://x.org/a b.jpg", caption="x"
    )
    assert parse_image_line('![x](https://x.org/a.jpg "t")') == Image(
        url="https://x.org/a.jpg", caption="x"
    )


# --- curated articles -----------------------------------------------------------------------------


def test_curated_article_is_markdown_proper() -> None:
    data = b"---\ntitle: A title\ntags: [a, b]\n---\nFirst line\nstill first.\n\nSecond.\n"
    draft, problems = parse_curated("articles/a.md", data)
    assert problems == []
    assert draft is not None
    assert draft.title == "A title"
    assert draft.blocks == ("First line\nstill first.", "Second.")
    assert draft.body_line == 5
    assert draft.meta.tags == ("a", "b")


def test_curated_article_without_text_or_source_is_skipped() -> None:
    draft, problems = parse_curated("articles/a.md", b"---\ntitle: T\n---\n\n")
    assert draft is None
    assert [str(p) for p in problems] == [
        "articles/a.md:4: article has no text and no 'source:'; skipped"
    ]


def test_source_fields_override_the_seed_and_the_body_comes_from_the_seed() -> None:
    base = seed("Roma – Il testo.\nSecondo.\n![R [foto: F]](https://x.org/r.jpg)\n", "seeds/s.txt")
    curated, problems = parse_curated(
        "articles/c.md",
        b"---\nsource: seeds/s.txt\ntitle: Nuovo titolo\ndateline: Milano\ndate: 2022-03-29\n---\n",
    )
    assert problems == [] and curated is not None
    pairs, alone, pair_problems = pair_curated(["seeds/s.txt"], [curated])
    assert (alone, pair_problems) == ([], [])
    merged = merge(base, pairs["seeds/s.txt"])
    assert (merged.path, merged.title, merged.dateline) == (
        "articles/c.md",
        "Nuovo titolo",
        "Milano",
    )
    assert merged.blocks == base.blocks
    assert merged.related == base.related
    assert merged.id == base.id
    assert merged.curated


def test_source_may_name_the_seed_by_file_name() -> None:
    curated, _ = parse_curated("articles/c.md", b"---\nsource: s.txt\n---\nOwn body.\n")
    assert curated is not None
    pairs, _, _ = pair_curated(["seeds/s.txt"], [curated])
    assert merge(seed("Seed body.\n", "seeds/s.txt"), pairs["seeds/s.txt"]).blocks == ("Own body.",)


def test_source_naming_no_seed_warns() -> None:
    with_body, _ = parse_curated("articles/c.md", b"---\nsource: nope.txt\n---\nBody.\n")
    without, _ = parse_curated("articles/d.md", b"---\nsource: nope.txt\n---\n")
    assert with_body is not None and without is not None
    _, alone, problems = pair_curated(["seeds/s.txt"], [with_body, without])
    assert [a.path for a in alone] == ["articles/c.md"]
    assert [str(p) for p in problems] == [
        "articles/c.md:1: 'source: nope.txt' names no seed file; use a path such as "
        "'seeds/nope.txt'; built on its own",
        "articles/d.md:1: 'source: nope.txt' names no seed file; use a path such as "
        "'seeds/nope.txt'; skipped",
    ]


def test_a_curated_article_is_read_whole() -> None:
    """Every field: lines joined within a block and right-trimmed, the dateline of the first
    block, the related images that end the file, the line of the first block."""
    data = (
        "---\ntitle: T\n---\n\n  Roma, 29 marzo 2022 – Il testo  \n  segue.\n\n\nSecondo.  \n\n"
        "![Uno [foto: F]](https://x.org/1.jpg)\n\n![Due](https://x.org/2.jpg)\n"
    ).encode()
    assert parse_curated("articles/a.md", data) == (
        Draft(
            path="articles/a.md",
            id=text_id("articles/a.md"),
            title="T",
            dateline="Roma",
            date_text="29 marzo 2022",
            blocks=("  Roma, 29 marzo 2022 – Il testo\n  segue.", "Secondo."),
            lede=(0, 24),  # the headline and summary start at "Il testo"
            related=(
                Image(url="https://x.org/1.jpg", caption="Uno", credit="foto: F"),
                Image(url="https://x.org/2.jpg", caption="Due"),
            ),
            meta=FrontMatter(title="T"),
            body_line=5,
            curated=True,
        ),
        [],
    )


def test_a_curated_article_of_a_seed_may_have_no_body() -> None:
    draft, problems = parse_curated("articles/b.md", b"---\nsource: s.txt\n---\n")
    assert problems == []
    assert draft == Draft(
        path="articles/b.md",
        id=text_id("articles/b.md"),
        title=None,
        dateline=None,
        date_text=None,
        blocks=(),
        related=(),
        lede=(-1, 0),
        meta=FrontMatter(source="s.txt"),
        body_line=4,
        curated=True,
    )


def test_a_curated_article_reports_its_encoding_and_its_front_matter_together() -> None:
    data = "---\ntitle: caffè\ncolour: red\n---\nCaffè.\n".encode("latin-1")
    draft, problems = parse_curated("articles/b.md", data)
    assert draft is not None and draft.blocks == ("Caffè.",)
    assert [(str(p), p.level) for p in problems] == [
        (
            "articles/b.md:2: not UTF-8; read as cp1252; re-save the file as UTF-8 to be sure "
            "of the text",
            "warning",
        ),
        (
            "articles/b.md:3: 'colour' is not a front matter key; valid keys: title, date, "
            "slug, lang, dateline, tags, summary, draft, aliases, source, id, image, "
            "image_caption, image_credit",
            "warning",
        ),
    ]


def test_a_curated_article_with_broken_front_matter_is_skipped_naming_the_line() -> None:
    assert parse_curated("articles/b.md", b"---\ntitle: [\n---\nx\n") == (
        None,
        [
            Problem(
                path="articles/b.md",
                line=2,
                level="error",
                message="front matter is not valid YAML (expected the node content, but found "
                "'<stream end>'); fix it; skipped",
            )
        ],
    )


def test_a_curated_article_without_text_or_source_is_an_error() -> None:
    assert parse_curated("articles/b.md", b"---\ntitle: T\n---\n") == (
        None,
        [
            Problem(
                path="articles/b.md",
                line=4,
                level="error",
                message="article has no text and no 'source:'; skipped",
            )
        ],
    )


SEED_017 = "seeds/017_0123456789abcdef.txt"
SEED_TEXT = (
    "Titolo del seme\n\nRoma, 29 marzo 2022 – Il testo.\nSecondo.\n"
    "![R [foto: F]](https://x.org/r.jpg)\n"
)


def test_a_curated_file_without_body_takes_all_but_its_fields_from_the_seed() -> None:
    base = seed(SEED_TEXT, SEED_017)
    over = curated("articles/c.md", f"---\nsource: {SEED_017}\n---\n")
    assert merge(base, over) == replace(base, path="articles/c.md", meta=over.meta, curated=True)


def test_a_curated_body_replaces_the_seeds_text_dateline_date_and_images() -> None:
    base = seed(SEED_TEXT, SEED_017)
    over = curated(
        "articles/c.md",
        f"---\nsource: {SEED_017}\ntitle: Mio\n---\n\n\n"
        "Milano, 1 aprile 2022 – Il mio testo.\n\n![M](https://x.org/m.jpg)\n",
    )
    assert merge(base, over) == Draft(
        path="articles/c.md",
        id="0123456789abcdef",
        title="Mio",
        dateline="Milano",
        date_text="1 aprile 2022",
        blocks=("Milano, 1 aprile 2022 – Il mio testo.",),
        related=(Image(url="https://x.org/m.jpg", caption="M"),),
        lede=(0, 24),
        meta=over.meta,
        body_line=7,
        curated=True,
    )


def test_a_curated_body_without_images_or_dateline_keeps_the_seeds_images() -> None:
    base = seed(SEED_TEXT, SEED_017)
    over = curated("articles/c.md", f"---\nsource: {SEED_017}\ndateline: Torino\n---\nSenza.\n")
    merged = merge(base, over)
    assert (merged.dateline, merged.date_text, merged.blocks, merged.related) == (
        "Torino",
        None,
        ("Senza.",),
        base.related,
    )
    assert merged.body_line == 5


@pytest.mark.parametrize(
    ("source", "seeds", "paired"),
    [
        ("seeds/sub/s.txt", ["seeds/sub/s.txt", "seeds/s.txt"], "seeds/sub/s.txt"),
        ("./seeds/s.txt", ["seeds/s.txt"], "seeds/s.txt"),
        ("  s.txt  ", ["seeds/s.txt"], "seeds/s.txt"),
        ("sub/s.txt", ["seeds/sub/s.txt", "seeds/s.txt"], "seeds/sub/s.txt"),
        ("other/s.txt", ["seeds/sub/s.txt"], "seeds/sub/s.txt"),  # the one seed of that name
        ("other/s.txt", ["seeds/sub/s.txt", "seeds/s.txt"], None),  # two: ambiguous
    ],
)
def test_source_names_a_seed_by_path_or_by_its_unique_file_name(
    source: str, seeds: list[str], paired: str | None
) -> None:
    draft = curated("articles/c.md", f"---\nsource: '{source}'\n---\nBody.\n")
    pairs, alone, problems = pair_curated(seeds, [draft])
    if paired:
        assert (pairs, alone, problems) == ({paired: draft}, [], [])
    else:
        assert pairs == {}
        assert alone == [replace(draft, meta=replace(draft.meta, source=None))]
        assert [str(p) for p in problems] == [
            f"articles/c.md:1: 'source: {source}' names no seed file; use a path such as "
            "'seeds/s.txt'; built on its own"
        ]


def test_a_seed_curated_twice_builds_the_second_body_on_its_own() -> None:
    one = curated("articles/a.md", "---\nsource: seeds/s.txt\n---\nUno.\n")
    two = curated("articles/b.md", "---\nsource: seeds/s.txt\n---\nDue.\n")
    alone_one = curated("articles/z.md", "---\ntitle: Z\n---\nZeta.\n")
    pairs, alone, problems = pair_curated(["seeds/s.txt"], [alone_one, two, one])
    assert pairs == {"seeds/s.txt": one}
    assert alone == [replace(two, meta=replace(two.meta, source=None)), alone_one]
    assert [(str(p), p.level) for p in problems] == [
        (
            "articles/b.md:1: 'source: seeds/s.txt' is already curated by articles/a.md; "
            "built on its own",
            "warning",
        )
    ]


# --- identity of curated articles -----------------------------------------------------------------


def curated(path: str, text: str) -> Draft:
    draft, problems = parse_curated(path, text.encode())
    assert problems == [] and draft is not None
    return draft


def test_curated_twins_keep_distinct_ids_from_their_paths() -> None:
    """Two headlines over one body are two articles: the id follows the file, not the text."""
    one = curated("articles/one.md", "---\ntitle: One headline\n---\nThe same body.\n")
    two = curated("articles/two.md", "---\ntitle: Another headline\n---\nThe same body.\n")
    assert (one.id, two.id) == (text_id("articles/one.md"), text_id("articles/two.md"))
    assert one.id != two.id


def test_editing_a_curated_body_keeps_its_id() -> None:
    before = curated("articles/a.md", "---\ntitle: T\n---\nFirst version.\n")
    after = curated("articles/a.md", "---\ntitle: T\n---\nSecond version, corrected.\n")
    assert before.id == after.id


def test_an_id_in_front_matter_is_the_id() -> None:
    draft = curated("articles/renamed.md", "---\nid: mubarak-dies\n---\nBody.\n")
    assert draft.id == "mubarak-dies"


def test_an_id_in_front_matter_replaces_the_seeds_over_which_it_is_written() -> None:
    base = seed("Il testo.\n", "seeds/017_0123456789abcdef.txt")
    over = curated("articles/c.md", "---\nsource: seeds/017_0123456789abcdef.txt\nid: mine\n---\n")
    plain = curated("articles/d.md", "---\nsource: seeds/017_0123456789abcdef.txt\n---\n")
    assert merge(base, over).id == "mine"
    assert merge(base, plain).id == "0123456789abcdef"


def test_a_second_curated_file_with_the_same_id_is_an_error_naming_the_first() -> None:
    first = curated("articles/a.md", "---\nid: same\n---\nOne.\n")
    second = curated("articles/b.md", "---\nid: same\nsource: seeds/s.txt\n---\n")
    third = curated("articles/c.md", "---\nid: other\n---\nThree.\n")
    pairs, alone, problems = pair_curated(["seeds/s.txt"], [third, second, first])
    assert (pairs, [d.path for d in alone]) == ({}, ["articles/a.md", "articles/c.md"])
    assert [(str(p), p.level) for p in problems] == [
        (
            "articles/b.md:1: 'id: same' is already the id of articles/a.md; skipped; "
            "choose another id",
            "error",
        )
    ]


def test_a_seed_curated_twice_warns() -> None:
    one, _ = parse_curated("articles/a.md", b"---\nsource: seeds/s.txt\n---\n")
    two, _ = parse_curated("articles/b.md", b"---\nsource: seeds/s.txt\n---\n")
    assert one is not None and two is not None
    pairs, _, problems = pair_curated(["seeds/s.txt"], [two, one])
    assert pairs["seeds/s.txt"].path == "articles/a.md"
    assert [str(p) for p in problems] == [
        "articles/b.md:1: 'source: seeds/s.txt' is already curated by articles/a.md; skipped"
    ]


# --- real articles: titles kept, first paragraphs kept, dates read -------------------------------


def corpus_rows() -> list[dict[str, str]]:
    """Real Wikinews articles (CC BY 2.5, see tests/data/cases/README.md): manifest title and
    date, and the first two paragraphs, cut short."""
    with (CASES / "corpus_titles.tsv").open(encoding="utf-8") as rows:
        return list(csv.DictReader(rows, delimiter="\t", quoting=csv.QUOTE_NONE))


def seed_style(row: dict[str, str], title: bool) -> str:
    head = f"{row['title']}\n\n" if title else ""
    related = "![Uno [Credit: Council of the EU]](https://x.org/1.jpg)\n"
    return f"{head}{row['first']}\n{row['second']}\n\n{related}"


def test_real_titles_are_kept_in_all_files_but_the_one_too_long_for_a_title() -> None:
    rows = corpus_rows()
    lost = [row["file"] for row in rows if seed(seed_style(row, True)).title != row["title"]]
    assert len(rows) == 270
    # 167 characters, longer than a title line may be (150): it stays the first paragraph.
    assert lost == ["161_229d34282f05f9e8.txt"]


def test_real_files_without_a_title_keep_their_first_paragraph() -> None:
    lost = [
        row["file"]
        for row in corpus_rows()
        if seed(seed_style(row, False)).blocks[:2] != (row["first"], row["second"])
    ]
    assert lost == []


def test_french_datelines_give_the_manifest_date() -> None:
    from newsgen.enrich import parse_date

    dated = [row for row in corpus_rows() if row["lang"] == "fr" and row["date"]]
    read = {
        row["file"]: parse_date(seed(seed_style(row, True)).date_text or "", "fr") for row in dated
    }
    assert len(dated) == 57
    assert {f: d.isoformat() if d else None for f, d in read.items()} == {
        row["file"]: row["date"] for row in dated
    }


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Città – è già così, perché sì.", "cp1252"),
        ("Genève - Les négociations ont échoué à la dernière minute.", "latin-1"),
        ("Größere Übungen für Jäger – „Anführungszeichen“ und Straße.", "cp1252"),
        ("Привет, как дела? Это тестовый текст на русском языке для проверки.", "cp1251"),
    ],
)
def test_short_legacy_texts_decode_to_the_right_letters(text: str, encoding: str) -> None:
    decoded, problems = decode(f"{text}\n".encode(encoding), "seeds/x.txt")
    assert decoded == f"{text}\n"
    assert len(problems) == 1


@pytest.mark.parametrize(
    ("text", "lede"),
    [
        ("Roma – Il testo.", (0, 7)),
        ("![Foto](https://x.org/f.jpg)\n\nParigi – Le texte.", (1, 9)),
        ("# Titolo\n\n> Citazione\n\nTesto senza luogo.", (2, 0)),
        ("> Solo una citazione.", (-1, 0)),
    ],
)
def test_the_lede_is_the_first_block_of_prose_past_its_dateline(
    text: str, lede: tuple[int, int]
) -> None:
    draft, _ = parse_curated("articles/a.md", f"---\ntitle: T\n---\n{text}\n".encode())
    assert draft is not None and draft.lede == lede


W = "Abcdefghij"


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("Roma", True),
        ("A B C D E F", True),
        ("A B C D E F G", False),  # seven words
        (f"{W} {W} {W} {W} Abcdef", True),  # 50 characters
        (f"{W} {W} {W} {W} Abcdefg", False),  # 51
        ("di de", False),  # joiners only
        ("di Roma", True),
        ("Lago d’ Orta", True),
        ("Lago d'' Orta", True),
        ("Lago d Orta", True),
        ("Lago di roma", False),
        ("roma", False),
    ],
)
def test_a_place_is_one_to_six_capitalised_words_and_joiners(text: str, place: bool) -> None:
    assert load.is_place(text) is place


@pytest.mark.parametrize(
    ("lines", "split"),
    [
        (["", "## Titolo ##", "", "Testo"], ("Titolo", ["", "Testo"], 2)),
        (["", ""], (None, ["", ""], 0)),
        (["", "Titolo", "", "Testo."], ("Titolo", ["", "Testo."], 2)),
        (["Titolo"], (None, ["Titolo"], 0)),
        (["Titolo", ""], (None, ["Titolo", ""], 0)),
        (["Titolo", "Testo."], (None, ["Titolo", "Testo."], 0)),
        (["Titolo", "", "- uno", "- due"], (None, ["Titolo", "", "- uno", "- due"], 0)),
        (["Titolo", "", "", "Testo."], ("Titolo", ["", "", "Testo."], 1)),
    ],
)
def test_a_title_is_a_heading_or_a_line_then_a_blank_line_then_text(
    lines: list[str], split: tuple[str | None, list[str], int]
) -> None:
    assert load.split_title(lines) == split


# --- title line and the file's layout (issue 16) --------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [
        "Logo della W Series",
        "Interview with the mayor",
        "Qu'est-ce qu'Ubuntu ?",
        "Der Bürgermeister im Gespräch",
        "Entrevista con el alcalde",
    ],
)
def test_a_short_first_paragraph_of_a_blank_line_file_stays_in_the_body(first: str) -> None:
    draft = seed(f"{first}\n\nPrimo paragrafo.\n\nSecondo paragrafo.\n")
    assert draft.title is None
    assert draft.blocks == (first, "Primo paragrafo.", "Secondo paragrafo.")


def test_a_title_line_is_set_apart_in_a_file_of_one_paragraph_a_line() -> None:
    draft = seed("Un titolo\n\nPrimo paragrafo.\nSecondo paragrafo.\n")
    assert (draft.title, draft.blocks) == ("Un titolo", ("Primo paragrafo.", "Secondo paragrafo."))


def test_a_title_line_before_a_single_paragraph_is_still_a_title() -> None:
    assert seed("Un titolo\n\nUn solo paragrafo.\n").title == "Un titolo"


def test_a_short_first_paragraph_is_the_headline_and_the_dateline_follows_it() -> None:
    from newsgen.enrich import enrich

    draft = seed("Logo della W Series\n\nRoma – La W Series si ferma. Altro.\n\nSecondo.\n")
    assert (draft.title, draft.dateline, draft.blocks[0]) == (None, "Roma", "Logo della W Series")
    found = enrich(draft, default_lang="it", timezone="UTC").article
    assert (found.title, found.summary) == ("Logo della W Series", "La W Series si ferma. Altro.")
