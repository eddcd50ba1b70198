"""The language model: py3langid's answers, to the bit, and its copy in the cache."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier, visit_counts
from py3langid.modelio import load_model

from newsgen import langmodel
from newsgen.langmodel import LanguageModel

SENTENCES = [
    "The government announced on Tuesday that it will expel twenty-one diplomats.",
    "Le gouvernement a annoncé mardi qu'il expulsera vingt et un diplomates russes.",
    "Die Bundesregierung hat am Dienstag angekündigt, russische Diplomaten auszuweisen.",
    "El gobierno anunció el martes que expulsará a veintiún diplomáticos rusos.",
    "Il governo ha annunciato martedì che espellerà ventuno diplomatici russi.",
    "Правительство объявило во вторник о высылке двадцати одного дипломата.",
    "政府は火曜日、ロシアの外交官21人を追放すると発表した。",
    "政府周二宣布将驱逐二十一名俄罗斯外交官。",
    "أعلنت الحكومة يوم الثلاثاء أنها ستطرد واحدا وعشرين دبلوماسيا روسيا.",
    "सरकार ने मंगलवार को इक्कीस रूसी राजनयिकों को निष्कासित करने की घोषणा की।",
    "Η κυβέρνηση ανακοίνωσε την Τρίτη ότι θα απελάσει είκοσι έναν Ρώσους διπλωμάτες.",
    "Vlada je u utorak objavila da će protjerati dvadeset i jednog ruskog diplomata.",
    "Влада је у уторак објавила да ће протерати двадесет једног руског дипломату.",
    "HEADLINE IN CAPITALS ONLY, AS SOME SCRAPERS WRITE THEM",
    "ok",
    "",
    "🎉🎉🎉 12345 !!!",
]
# Text in many scripts, whole words or not, with astral characters and lone surrogates.
texts = st.text(
    alphabet=st.one_of(
        st.characters(max_codepoint=0x17F),
        st.characters(min_codepoint=0x370, max_codepoint=0x6FF),
        st.characters(min_codepoint=0x900, max_codepoint=0x97F),
        st.characters(min_codepoint=0x3040, max_codepoint=0x9FFF),
        st.characters(),
        st.characters(categories=["Cs"]),
    ),
    max_size=300,
)


@pytest.fixture(scope="module")
def parts() -> tuple[Any, ...]:
    return tuple(load_model(Path(MODEL_DIR) / MODEL_FILE))


@pytest.fixture(scope="module")
def reference(parts: tuple[Any, ...]) -> LanguageIdentifier:
    ptc, pc, classes, nextmove, row, output = parts
    return LanguageIdentifier(
        np.asarray(ptc), np.asarray(pc), classes, nextmove, output, norm_probs=True, tk_row=row
    )


@pytest.fixture(scope="module")
def model(parts: tuple[Any, ...]) -> LanguageModel:
    return langmodel.build(parts)


@pytest.mark.parametrize("text", SENTENCES)
def test_classify_is_py3langids_answer_to_the_bit(
    model: LanguageModel, reference: LanguageIdentifier, text: str
) -> None:
    lang, confidence = reference.classify(text)
    assert langmodel.classify(model, text) == (lang, confidence)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_any_text_is_classified_as_py3langid_does(
    model: LanguageModel, reference: LanguageIdentifier, text: str
) -> None:
    assert langmodel.classify(model, text) == tuple(reference.classify(text))


@settings(max_examples=100, deadline=None)
@given(batch=st.lists(texts, max_size=12))
def test_texts_classified_together_get_the_answers_they_get_alone(
    model: LanguageModel, reference: LanguageIdentifier, batch: list[str]
) -> None:
    assert langmodel.classify_all(model, batch) == [tuple(reference.classify(t)) for t in batch]


def test_a_batch_of_real_articles_gets_py3langids_answers(
    model: LanguageModel, reference: LanguageIdentifier
) -> None:
    """Texts in several languages side by side: no text's features may leak into its
    neighbours' counts, or change the order in which their own are summed."""
    seeds = sorted((Path(__file__).parents[1] / "seeds").glob("*.txt"))[:120]
    batch = [seed.read_text(encoding="utf-8")[:300] for seed in seeds] + SENTENCES
    assert langmodel.classify_all(model, batch) == [tuple(reference.classify(t)) for t in batch]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=80))
def test_features_are_counted_as_py3langid_does_in_the_same_order(
    model: LanguageModel, reference: LanguageIdentifier, data: bytes
) -> None:
    expected = visit_counts(reference.tk_nextmove, reference._rowbase, reference.tk_output, data)
    counts = langmodel.feature_counts(model, data)
    assert list(counts.items()) == list((expected or {}).items())


def test_the_automaton_is_six_bytes_deep_and_a_nul_leaves_it_at_the_start(
    model: LanguageModel,
) -> None:
    # The depth bounds how far back the state depends on the text: a wrong depth would count
    # other features, and the tests above would see it on long texts.
    assert model.entry.tolist()[1:] == [6, 0]


def test_the_cache_copy_is_made_once_and_mapped_after(tmp_path: Path) -> None:
    first = langmodel.load(tmp_path)
    copies = list(tmp_path.iterdir())
    assert [c.name for c in copies] == [f"langid-{version('py3langid')}-{langmodel.FORMAT}"]
    again = langmodel.load(tmp_path)
    for text in SENTENCES:
        assert langmodel.classify(again, text) == langmodel.classify(first, text)
    assert list(tmp_path.iterdir()) == copies


def test_a_broken_copy_is_replaced(tmp_path: Path) -> None:
    langmodel.load(tmp_path)
    (copy,) = tmp_path.iterdir()
    (copy / "weights.npy").write_bytes(b"not an array")
    model = langmodel.load(tmp_path)
    assert langmodel.classify(model, SENTENCES[0])[0] == "en"
    assert np.load(copy / "weights.npy").shape == model.weights.shape


def test_copies_in_older_formats_are_removed_and_other_versions_kept(tmp_path: Path) -> None:
    """Another install (another py3langid) may share the user's cache folder."""
    current = version("py3langid")
    (tmp_path / f"langid-{current}.pickle").write_bytes(b"68 MB")
    (tmp_path / f"langid-{current}-1").mkdir()
    (tmp_path / "langid-0.1.0-4").mkdir()
    (tmp_path / "langid-0.1.0-4" / "weights.npy").write_bytes(b"100 MB")
    langmodel.load(tmp_path)
    assert sorted(c.name for c in tmp_path.iterdir()) == [
        "langid-0.1.0-4",
        f"langid-{current}-{langmodel.FORMAT}",
    ]


def test_the_copy_is_kept_once_per_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    assert langmodel.copy_folder(tmp_path / "site") == tmp_path / "user-cache" / "newsgen"


def test_the_site_cache_keeps_it_when_the_user_cache_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    assert langmodel.copy_folder(tmp_path / "site") == tmp_path / "site"
