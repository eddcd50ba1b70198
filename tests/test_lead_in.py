"""render: a headline taken from the lede is shown once. Teasers show the text after it;
an article page sets the lede's first sentence as its headline, in place."""

from __future__ import annotations

from markupsafe import Markup

from newsgen.render import LeadIn, after_headline, lead_in, reading_minutes


def test_a_teaser_shows_what_follows_a_whole_sentence_headline() -> None:
    summary = "Il sindaco ha firmato il decreto. La giunta lo approva domani."
    assert after_headline(summary, "Il sindaco ha firmato il decreto") == (
        "La giunta lo approva domani."
    )


def test_a_teaser_continues_a_cut_headline_with_an_ellipsis() -> None:
    summary = "Le conseil municipal a voté hier soir le budget de 2014 après six heures de débat."
    title = "Le conseil municipal a voté hier soir…"
    assert after_headline(summary, title) == "…le budget de 2014 après six heures de débat."


def test_a_teaser_continues_a_headline_cut_at_a_clause_without_an_ellipsis() -> None:
    summary = "Il sindaco ha firmato il decreto, dopo una lunga trattativa con i sindacati."
    assert after_headline(summary, "Il sindaco ha firmato il decreto") == (
        "…dopo una lunga trattativa con i sindacati."
    )


def test_a_sentence_ending_in_a_closing_quote_is_a_whole_headline() -> None:
    summary = "He said “no.” Then the meeting ended without a vote."
    assert after_headline(summary, "He said “no.”") == "Then the meeting ended without a vote."
    assert after_headline(summary, "He said “no") == "Then the meeting ended without a vote."


def test_a_teaser_shows_nothing_more_when_the_summary_is_the_headline() -> None:
    assert after_headline("Storm hits Lyon.", "Storm hits Lyon") == ""
    assert after_headline("Storm hits Lyon", "Storm hits Lyon…") == ""


def test_a_teaser_leaves_out_the_scrap_of_a_sentence_its_cut_headline_all_but_holds() -> None:
    assert after_headline("Le maire a fait rire.", "Le maire a fait…") == ""
    assert after_headline("Le maire a fait " + "x" * 39 + ".", "Le maire a fait…") == ""
    assert after_headline("Le maire a fait " + "x" * 40 + ".", "Le maire a fait…") == (
        "…" + "x" * 40 + "."
    )


def test_a_written_headline_leaves_the_summary_whole() -> None:
    summary = "On Tuesday the council voted."
    assert after_headline(summary, "Council votes budget") == summary


def test_the_lede_sentence_is_marked_in_place_after_the_dateline() -> None:
    body = Markup("<p>Lyon – Le conseil a voté. La séance fut longue.</p>\n<p>Suite.</p>")
    found = lead_in(body, "Le conseil a voté")
    assert found.found
    assert found.body == Markup(
        '<p><span class="kicker">Lyon –</span> <span class="lead-in">Le conseil a voté.</span>'
        " La séance fut longue.</p>\n<p>Suite.</p>"
    )


def test_the_dateline_above_a_lead_in_links_its_place() -> None:
    body = Markup("<p>Reggio di Calabria, 29 marzo 2022 – Il porto riapre. Poi.</p>")
    found = lead_in(body, "Il porto riapre", "/places/reggio-di-calabria/", "Reggio di Calabria")
    assert found.kicker
    assert found.body == Markup(
        '<p><span class="kicker"><a href="/places/reggio-di-calabria/">Reggio di Calabria</a>'
        ', 29 marzo 2022 –</span> <span class="lead-in">Il porto riapre.</span> Poi.</p>'
    )
    assert not lead_in(Markup("<p>Il porto riapre. Poi.</p>"), "Il porto riapre").kicker


def test_a_cut_headline_marks_its_whole_sentence_and_a_long_one_is_set_smaller() -> None:
    sentence = "Le conseil municipal de Lyon a voté " + "très " * 30 + "tard."
    body = Markup(f"<p>{sentence} Puis rien.</p>")
    found = lead_in(body, "Le conseil municipal de Lyon a voté très…")
    assert found.body == Markup(f'<p><span class="lead-in long">{sentence}</span> Puis rien.</p>')


def test_text_in_the_lede_stays_text() -> None:
    body = Markup("<p>Rome – A &lt;script&gt;alert(1)&lt;/script&gt; tag. More.</p>")
    found = lead_in(body, "A <script>alert(1)</script> tag")
    assert found.found and "<script>" not in found.body
    assert '<span class="lead-in">A &lt;script&gt;alert(1)&lt;/script&gt; tag.</span>' in found.body


def test_a_lede_with_markup_or_another_headline_is_left_alone() -> None:
    body = Markup("<p>A <em>big</em> storm. More.</p>")
    assert lead_in(body, "A big storm") == LeadIn(body, False)
    plain = Markup("<p>Rain today. More.</p>")
    assert not lead_in(plain, "Weather report").found


def test_reading_time_counts_the_spaces_between_words() -> None:
    assert reading_minutes("<p>" + "word " * 10 + "</p>") == 1
    assert reading_minutes("<p>" + "word " * 1100 + '<a href="x">x</a></p>') == 5
