"""Articles whose file name carries no id keep their identity, and with it every URL they were
published at: edited (by their path), renamed with nearly the same text (by a sketch of their
text that `urls.yaml` records), in every language; and a build from nothing agrees."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
import yaml

from newsgen import identity, urls
from newsgen.identity import Claim, Known, assign, path_id, resemblance, sketch
from newsgen.load import text_id
from newsgen.plan import url_to_path
from tests.conftest import MakeSite, build_site
from tests.util import clean_build, snapshot

TEXTS = {
    "it": (
        "Torino – Il consiglio comunale ha approvato ieri sera il nuovo piano dei trasporti "
        "dopo una seduta durata oltre sei ore.\n"
        "Il piano prevede tre nuove linee di tram, il rinnovo di duecento autobus e una rete "
        "di piste ciclabili che collegherà i quartieri della periferia con il centro storico.\n"
        "L'opposizione ha criticato i costi dell'opera e ha chiesto un referendum cittadino, "
        "mentre le associazioni dei pendolari hanno accolto con favore la decisione.\n"
        "I lavori dovrebbero cominciare entro la primavera del prossimo anno e durare almeno "
        "quattro anni, secondo le stime presentate dall'assessore alla mobilità.\n"
    ),
    "en": (
        "Leeds – The city council approved a new transport plan last night after a meeting "
        "that lasted more than six hours.\n"
        "The plan includes three new tram lines, two hundred new buses and a network of cycle "
        "lanes that will link the outer districts with the historic centre.\n"
        "The opposition criticised the cost of the project and called for a local "
        "referendum, while commuter groups welcomed the decision.\n"
        "Work is expected to begin by next spring and to last at least four years, according "
        "to estimates presented by the councillor for transport.\n"
    ),
    "fr": (
        "Lyon – Le conseil municipal a adopté hier soir le nouveau plan de transports après "
        "une séance de plus de six heures.\n"
        "Le plan prévoit trois nouvelles lignes de tramway, deux cents nouveaux autobus et un "
        "réseau de pistes cyclables qui reliera les quartiers périphériques au centre.\n"
        "L'opposition a critiqué le coût du projet et réclamé un référendum local, tandis que "
        "les associations d'usagers ont salué la décision.\n"
        "Les travaux devraient commencer au printemps prochain et durer au moins quatre ans, "
        "selon les estimations présentées par l'adjoint aux transports.\n"
    ),
    "de": (
        "Graz – Der Gemeinderat hat gestern Abend nach einer mehr als sechsstündigen Sitzung "
        "den neuen Verkehrsplan beschlossen.\n"
        "Der Plan sieht drei neue Straßenbahnlinien, zweihundert neue Busse und ein Netz von "
        "Radwegen vor, das die Außenbezirke mit der Altstadt verbinden soll.\n"
        "Die Opposition kritisierte die Kosten des Vorhabens und forderte eine Volksbefragung, "
        "während die Pendlerverbände die Entscheidung begrüßten.\n"
        "Die Arbeiten sollen im kommenden Frühjahr beginnen und mindestens vier Jahre dauern, "
        "wie der zuständige Stadtrat für Verkehr schätzt.\n"
    ),
    "es": (
        "Sevilla – El pleno del ayuntamiento aprobó anoche el nuevo plan de transporte tras "
        "una sesión de más de seis horas.\n"
        "El plan incluye tres nuevas líneas de tranvía, doscientos autobuses nuevos y una red "
        "de carriles bici que unirá los barrios periféricos con el casco antiguo.\n"
        "La oposición criticó el coste del proyecto y pidió una consulta ciudadana, mientras "
        "que las asociaciones de usuarios celebraron la decisión.\n"
        "Las obras deberían comenzar la próxima primavera y durar al menos cuatro años, según "
        "las estimaciones presentadas por el concejal de movilidad.\n"
    ),
}
# A new first sentence for each: a new headline, hence a new URL.
LEDES = {
    "it": "Torino – La giunta ha presentato il piano dei trasporti più costoso della storia.",
    "en": "Leeds – The council unveiled the most expensive transport plan in its history.",
    "fr": "Lyon – La mairie a présenté le plan de transports le plus cher de son histoire.",
    "de": "Graz – Die Stadt hat den teuersten Verkehrsplan ihrer Geschichte vorgestellt.",
    "es": "Sevilla – El ayuntamiento presentó el plan de transporte más caro de su historia.",
}
LANGUAGES = sorted(TEXTS)


def relede(text: str, lang: str) -> str:
    """The text with its first sentence (its headline) replaced."""
    first, rest = text.split("\n", 1)
    return LEDES[lang] + first[first.index(".") + 1 :] + "\n" + rest


def registry(site: Path) -> dict[str, object]:
    data = yaml.safe_load((site / "urls.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def article_urls(site: Path) -> set[str]:
    return {f"/articles/{p.name}/" for p in (site / "build" / "articles").iterdir()}


def redirects(site: Path) -> dict[str, str]:
    lines = (site / "build" / "_redirects").read_text(encoding="utf-8").splitlines()
    return {old: new for old, new, _ in (line.split() for line in lines)}


def assert_same_as_clean(site: Path, tmp_path: Path) -> None:
    """A build of the same inputs (and the same `urls.yaml`) from nothing writes the same."""
    assert snapshot(site / "build") == clean_build(site, tmp_path)


def only(urls_now: set[str]) -> str:
    assert len(urls_now) == 1, urls_now
    return next(iter(urls_now))


# --- seeds whose name carries no id ---------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_edited_seed_keeps_its_identity_and_its_old_url_redirects(
    make_site: MakeSite, tmp_path: Path, lang: str
) -> None:
    site = make_site({f"seeds/{lang}-trasporti.txt": TEXTS[lang]})
    build_site(site)
    old = only(article_urls(site))
    (site / "seeds" / f"{lang}-trasporti.txt").write_text(
        relede(TEXTS[lang], lang), encoding="utf-8"
    )
    _, result = build_site(site)
    assert result.problems == ()
    new = only(article_urls(site) - {old})
    assert redirects(site) == {old: new}
    page = (site / "build" / url_to_path(old)).read_text(encoding="utf-8")
    assert f'<meta http-equiv="refresh" content="0; url={new}">' in page
    key = path_id(f"seeds/{lang}-trasporti.txt")
    assert registry(site)[key] == {
        "file": f"seeds/{lang}-trasporti.txt",
        "text": sketch(relede(TEXTS[lang], lang)),
        "urls": sorted([old, new]),
    }
    assert_same_as_clean(site, tmp_path)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_seed_renamed_with_the_same_text_keeps_its_identity_and_url(
    make_site: MakeSite, tmp_path: Path, lang: str
) -> None:
    site = make_site({"seeds/bozza.txt": TEXTS[lang]})
    build_site(site)
    url = only(article_urls(site))
    (site / "seeds" / "bozza.txt").rename(site / "seeds" / f"{lang}.txt")
    _, result = build_site(site)
    assert result.problems == ()
    assert article_urls(site) == {url}
    assert registry(site) == {
        path_id("seeds/bozza.txt"): {
            "file": f"seeds/{lang}.txt",
            "text": sketch(TEXTS[lang]),
            "urls": [url],
        }
    }
    assert_same_as_clean(site, tmp_path)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_seed_renamed_with_nearly_the_same_text_keeps_its_identity(
    make_site: MakeSite, tmp_path: Path, lang: str
) -> None:
    site = make_site({"seeds/a.txt": TEXTS[lang]})
    build_site(site)
    old = only(article_urls(site))
    (site / "seeds" / "a.txt").unlink()
    (site / "seeds" / "b.txt").write_text(relede(TEXTS[lang], lang), encoding="utf-8")
    _, result = build_site(site)
    assert result.problems == ()
    new = only(article_urls(site) - {old})
    assert redirects(site) == {old: new}
    entry = registry(site)[path_id("seeds/a.txt")]
    assert isinstance(entry, dict)
    assert (entry["file"], entry["urls"]) == ("seeds/b.txt", sorted([old, new]))
    assert_same_as_clean(site, tmp_path)


def test_a_renamed_seed_with_another_text_is_another_article(
    make_site: MakeSite, tmp_path: Path
) -> None:
    site = make_site({"seeds/a.txt": TEXTS["it"]})
    build_site(site)
    old = only(article_urls(site))
    (site / "seeds" / "a.txt").unlink()
    (site / "seeds" / "b.txt").write_text(TEXTS["en"], encoding="utf-8")
    build_site(site)
    assert not (site / "build" / url_to_path(old)).exists()
    assert sorted(registry(site)) == sorted([path_id("seeds/a.txt"), path_id("seeds/b.txt")])
    assert_same_as_clean(site, tmp_path)


def test_renames_are_matched_by_resemblance_whatever_the_order_of_the_files(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """Five seeds renamed at once, each edited: each keeps its own identity, however the new
    names sort against the old ones."""
    site = make_site({f"seeds/{lang}.txt": TEXTS[lang] for lang in LANGUAGES})
    build_site(site)
    before = {k: v["urls"] for k, v in registry(site).items()}  # type: ignore[index]
    new_names = dict(zip(LANGUAGES, reversed(LANGUAGES), strict=True))
    for lang in LANGUAGES:
        (site / "seeds" / f"{lang}.txt").unlink()
    for lang in LANGUAGES:
        text = relede(TEXTS[lang], lang)
        (site / "seeds" / f"{new_names[lang]}-nuovo.txt").write_text(text, encoding="utf-8")
    _, result = build_site(site)
    assert result.problems == ()
    after = registry(site)
    for lang in LANGUAGES:
        entry = after[path_id(f"seeds/{lang}.txt")]
        assert isinstance(entry, dict)
        assert entry["file"] == f"seeds/{new_names[lang]}-nuovo.txt"
        (old,) = before[path_id(f"seeds/{lang}.txt")]
        (new,) = set(entry["urls"]) - {old}
        assert redirects(site)[old] == new
    assert_same_as_clean(site, tmp_path)


def test_a_new_file_at_a_renamed_files_old_path_is_a_new_article(
    make_site: MakeSite, tmp_path: Path
) -> None:
    site = make_site({"seeds/a.txt": TEXTS["fr"]})
    build_site(site)
    (site / "seeds" / "a.txt").rename(site / "seeds" / "b.txt")
    build_site(site)
    (site / "seeds" / "a.txt").write_text(TEXTS["de"], encoding="utf-8")
    _, result = build_site(site)
    assert result.problems == ()
    entries = registry(site)
    assert entries[path_id("seeds/a.txt")]["file"] == "seeds/b.txt"  # type: ignore[index]
    assert entries[path_id("seeds/a.txt", 2)]["file"] == "seeds/a.txt"  # type: ignore[index]
    assert_same_as_clean(site, tmp_path)


def test_a_registry_from_before_files_were_recorded_keeps_its_ids(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """An entry keyed by the hash of a seed's text, as earlier versions made it, stays the
    seed's id; from then on the file identifies it, and an edit keeps it."""
    site = make_site({"seeds/a.txt": TEXTS["es"]})
    old_id = text_id(TEXTS["es"])
    build_site(site)
    url = only(article_urls(site))
    (site / "urls.yaml").write_text(urls.dump_registry({old_id: [url]}), encoding="utf-8")
    build_site(site)
    assert registry(site) == {
        old_id: {"file": "seeds/a.txt", "text": sketch(TEXTS["es"]), "urls": [url]}
    }
    (site / "seeds" / "a.txt").write_text(relede(TEXTS["es"], "es"), encoding="utf-8")
    build_site(site)
    assert list(registry(site)) == [old_id]
    assert redirects(site) == {url: only(article_urls(site) - {url})}
    assert_same_as_clean(site, tmp_path)


def test_a_seed_named_with_its_id_is_not_identified_by_its_file(make_site: MakeSite) -> None:
    site = make_site({"seeds/001_0123456789abcdef.txt": TEXTS["it"]})
    build_site(site)
    assert registry(site) == {"0123456789abcdef": [only(article_urls(site))]}


# --- curated articles without `id:` ---------------------------------------------------------


def curated(title: str, body: str) -> str:
    return f"---\ntitle: {title}\n---\n" + body.replace("\n", "\n\n")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_curated_article_keeps_its_identity_when_title_and_text_change(
    make_site: MakeSite, tmp_path: Path, lang: str
) -> None:
    site = make_site({"articles/piano.md": curated("Il piano", TEXTS[lang])})
    build_site(site)
    old = only(article_urls(site))
    (site / "articles" / "piano.md").write_text(
        curated("Un altro titolo", TEXTS["en" if lang != "en" else "de"]), encoding="utf-8"
    )
    _, result = build_site(site)
    assert result.problems == ()
    new = only(article_urls(site) - {old})
    assert redirects(site) == {old: new}
    assert list(registry(site)) == [path_id("articles/piano.md")]
    assert_same_as_clean(site, tmp_path)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_curated_article_renamed_with_nearly_the_same_text_keeps_its_identity(
    make_site: MakeSite, tmp_path: Path, lang: str
) -> None:
    site = make_site({"articles/piano.md": curated("Il piano", TEXTS[lang])})
    build_site(site)
    old = only(article_urls(site))
    (site / "articles" / "piano.md").unlink()
    text = TEXTS[lang].replace("\n", " Una riga in più.\n", 1)
    (site / "articles" / "trasporti.md").write_text(
        curated("Il piano dei trasporti", text), encoding="utf-8"
    )
    _, result = build_site(site)
    assert result.problems == ()
    new = only(article_urls(site) - {old})
    assert redirects(site) == {old: new}
    entry = registry(site)[path_id("articles/piano.md")]
    assert isinstance(entry, dict)
    assert entry["file"] == "articles/trasporti.md"
    assert_same_as_clean(site, tmp_path)


def test_identity_is_the_same_from_a_copy_of_the_site_without_its_cache(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """What a rename keeps is in `urls.yaml`, not in the cache: a fresh checkout of the
    renamed site with the old `urls.yaml` builds what an incremental build did."""
    site = make_site({"seeds/a.txt": TEXTS["de"]})
    build_site(site)
    (site / "seeds" / "a.txt").rename(site / "seeds" / "b.txt")
    fresh = tmp_path / "fresh"
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("build", ".newsgen"))
    build_site(site)
    build_site(fresh)
    assert snapshot(site / "build") == snapshot(fresh / "build")
    assert (site / "urls.yaml").read_bytes() == (fresh / "urls.yaml").read_bytes()


# --- the rules, without files ----------------------------------------------------------------


def test_resemblance_of_sketches() -> None:
    text = TEXTS["it"]
    assert resemblance(sketch(text), sketch(text)) == 1.0
    assert resemblance(sketch(text), sketch(text.upper())) == 1.0
    assert resemblance(sketch(text), sketch(relede(text, "it"))) >= identity.NEARLY
    assert resemblance(sketch(text), sketch(TEXTS["fr"])) < identity.NEARLY
    half = "\n".join(text.splitlines()[:2]) + "\n" + TEXTS["en"]
    assert resemblance(sketch(text), sketch(half)) < identity.NEARLY
    assert resemblance(sketch(""), sketch("")) == 0.0
    assert resemblance("", sketch(text)) == 0.0
    assert len(sketch(text)) == 2 * identity.BUCKETS


def test_assign_in_turn_recorded_unfiled_renamed_new() -> None:
    known = Known(
        ids={"rec", "legacy", "gone", path_id("seeds/new.txt")},
        files={"rec": "seeds/rec.txt", "gone": "seeds/gone.txt"},
        texts={"rec": sketch("x"), "gone": sketch(TEXTS["es"])},
    )
    claims = [
        Claim(path="seeds/rec.txt", made="t1", sketch=sketch("other")),
        Claim(path="seeds/old.txt", made="legacy", sketch=sketch("y")),
        Claim(path="seeds/moved.txt", made="t3", sketch=sketch(relede(TEXTS["es"], "es"))),
        Claim(path="seeds/new.txt", made="t4", sketch=sketch("z")),
    ]
    present = {c.path for c in claims}
    expected = {
        "seeds/rec.txt": "rec",
        "seeds/old.txt": "legacy",
        "seeds/moved.txt": "gone",
        "seeds/new.txt": path_id("seeds/new.txt", 2),
    }
    for order in itertools.permutations(claims):
        assert assign(order, known, present) == expected
    # A file that is there but failed keeps its identity from being taken.
    assert assign(claims[2:3], known, present | {"seeds/gone.txt"}) == {
        "seeds/moved.txt": path_id("seeds/moved.txt")
    }
    # A draft's identity never moves by its text.
    draft = Claim(path="seeds/moved.txt", made="legacy", sketch=claims[2].sketch, settled=False)
    assert assign([draft], known, present) == {"seeds/moved.txt": path_id("seeds/moved.txt")}


def test_the_most_alike_pair_wins_a_contested_identity() -> None:
    text = TEXTS["en"]
    known = Known(ids={"gone"}, files={"gone": "seeds/gone.txt"}, texts={"gone": sketch(text)})
    close = Claim(path="seeds/z.txt", made="a", sketch=sketch(text))
    farther = Claim(path="seeds/a.txt", made="b", sketch=sketch(relede(text, "en")))
    assert assign([farther, close], known, set()) == {
        "seeds/z.txt": "gone",
        "seeds/a.txt": path_id("seeds/a.txt"),
    }


def test_registry_entries_with_a_file_are_read_quickly_or_by_the_yaml_parser() -> None:
    text = urls.dump_registry(
        {"a": ["/articles/x/"], "b": ["/articles/y/", "/perché/"]},
        {"b": "seeds/città 1.txt"},
        {"b": sketch("uno due tre")},
    )
    assert text == urls.HEADER + (
        '"a":\n- /articles/x/\n"b":\n  file: "seeds/città 1.txt"\n'
        f'  text: "{sketch("uno due tre")}"\n  urls:\n  - /articles/y/\n  - "/perché/"\n'
    )
    assert urls.read_registry(text) == yaml.safe_load(text)
    registry, problems = urls.parse_registry(urls.read_registry(text))
    assert problems == []
    assert registry == urls.Registry(
        urls={"a": ("/articles/x/",), "b": ("/articles/y/", "/perché/")},
        files={"b": "seeds/città 1.txt"},
        texts={"b": sketch("uno due tre")},
    )
    bad = '"b":\n  file: 3\n  urls: [/articles/y/]\n'
    assert [p.message.split(";")[0] for p in urls.parse_registry(yaml.safe_load(bad))[1]] == [
        "'b': expected a list of URLs such as ['/articles/name/']"
    ]


def test_an_edit_that_moves_nothing_keeps_a_renamed_files_identity_in_a_rebuild(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """The rebuild that renders only the edited article's pages gives it the identity the
    last full build did (its feed entry id), not the one its new path would make."""
    site = make_site({"seeds/a.txt": TEXTS["it"]})
    build_site(site)
    (site / "seeds" / "a.txt").rename(site / "seeds" / "b.txt")
    build_site(site)
    text = TEXTS["it"].replace("almeno quattro anni", "almeno cinque anni")
    (site / "seeds" / "b.txt").write_text(text, encoding="utf-8")
    _, result = build_site(site)
    assert result.kept_plan
    assert_same_as_clean(site, tmp_path)
    feed = (site / "build" / "feed.xml").read_text(encoding="utf-8")
    assert "cinque anni" in feed
    assert list(registry(site)) == [path_id("seeds/a.txt")]
