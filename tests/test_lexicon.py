"""The bilingual lexicon: lemmas, tables in index/data, question -> keyword groups (no model)."""
from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pytest

from index.lexicon import (
    Group, Lexicon, default_paths, lemmas, normalize_vi, spelling_variants,
    translate_english, translate_vietnamese,
)


ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "index" / "data"


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.load()


def _table(tmp_path: Path, name: str, rows: dict[str, list[str]]) -> Path:
    path = tmp_path / name
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("# test table\n")
        f.writelines(f"{en}\t{'|'.join(vi)}\n" for en, vi in rows.items())
    return path


@pytest.fixture
def tiny(tmp_path) -> Lexicon:
    first = _table(tmp_path, "lexicon-a.tsv.gz", {
        "international": ["quốc tế"], "law": ["pháp luật", "định luật"],
        "international law": ["luật quốc tế"], "sign": ["ký"], "city": ["thành phố"],
        "cooperation": ["hợp tác"], "culture": ["văn hoá"], "table": ["bàn"],
    })
    second = _table(tmp_path, "lexicon-b.tsv.gz", {"law": ["luật", "pháp luật"], "ban": ["cấm"]})
    return Lexicon.load([first, second])


# --- lemmas -------------------------------------------------------------------------------

@pytest.mark.parametrize("word, lemma", [
    ("signed", "sign"), ("cities", "city"), ("was", "be"), ("were", "be"), ("held", "hold"),
    ("led", "lead"), ("won", "win"), ("rights", "right"), ("Vietnam's", "vietnam"),
    ("churches", "church"), ("stopped", "stop"), ("hoping", "hope"), ("running", "run"),
    ("studied", "study"), ("largest", "large"), ("people", "person"),
])
def test_lemmas_find_the_lemma_and_start_with_the_word(word, lemma):
    candidates = lemmas(word)
    assert candidates[0] == word.lower()
    assert lemma in candidates
    assert len(candidates) == len(set(candidates))


def test_lemmas_leave_uninflected_words_alone():
    assert lemmas("status") == ["status"]
    assert lemmas("law") == ["law"]


# --- Vietnamese spelling ---------------------------------------------------------------------

def test_normalize_vi_nfc_lower_and_one_tone_placement():
    assert normalize_vi("Văn  Hoá") == "văn hóa"
    assert normalize_vi("Vie\u0323\u0302t Nam") == "việt nam"
    assert normalize_vi("THUỶ") == "thủy" and normalize_vi("quý") == "quý"
    assert normalize_vi("hoàn toàn") == "hoàn toàn"  # closed syllables have one spelling
    assert spelling_variants("hòa bình") == ["hòa bình", "hoà bình"]
    assert spelling_variants("luật") == ["luật"]


# --- the shipped tables ---------------------------------------------------------------------

def test_tables_load_with_licence_notice(lex):
    names = [p.name for p in default_paths()]
    assert names[0] == "lexicon-wiktionary.tsv.gz"
    assert "lexicon-fvdp.tsv.gz" in names
    assert len(lex) > 20_000
    assert Lexicon.load() is lex  # cached per path tuple
    notice = (DATA / "LEXICON-NOTICE.md").read_text(encoding="utf-8")
    assert "CC BY-SA 3.0" in notice and "GPL-2.0-or-later" in notice
    assert "scripts/build_lexicon.py" in notice
    for path in default_paths():
        assert path.stat().st_size < 2_000_000
        with gzip.open(path, "rt", encoding="utf-8") as f:
            assert "License:" in "".join(next(f) for _ in range(3))


def test_table_format(lex):
    for en, alternatives in lex.table.items():
        assert en == en.lower().strip() and 1 <= len(en.split()) <= 3 and "\t" not in en
        assert 1 <= len(alternatives) <= 8 and len(set(alternatives)) == len(alternatives)
        for vi in alternatives:
            assert vi == normalize_vi(vi) and 1 <= len(vi.split()) <= 5
            assert not set(vi) & set("()[]{}/|;,:")
    for stopword in ("the", "which", "what", "of", "and"):
        assert stopword not in lex.table


@pytest.mark.parametrize("english, vietnamese", [
    ("law", "luật"), ("cooperation", "hợp tác"), ("international", "quốc tế"),
    ("minister", "bộ trưởng"), ("signed", "ký"), ("cities", "thành phố"),
    ("human rights", "nhân quyền"), ("international law", "luật quốc tế"),
])
def test_known_pairs(lex, english, vietnamese):
    assert vietnamese in lex.en_to_vi(english)


def test_vi_to_en_exact_and_unaccented(lex):
    assert "cooperation" in lex.vi_to_en("Hợp tác")
    assert "international" in lex.vi_to_en("quốc tế")
    assert "cooperation" in lex.vi_to_en("hop tac")
    assert "international" in lex.vi_to_en("quoc te")
    assert lex.vi_to_en("xyzzy") == [] and lex.en_to_vi("xyzzy") == []


# --- a tiny lexicon: merging, fallbacks ------------------------------------------------------

def test_tables_are_interleaved_deduplicated_and_normalised(tiny):
    assert tiny.en_to_vi("law") == ["pháp luật", "luật", "định luật"]
    assert tiny.en_to_vi("culture") == ["văn hóa"]
    assert tiny.en_to_vi("signed") == ["ký"] and tiny.en_to_vi("signed", lemmatize=False) == []
    assert len(tiny) == 9


def test_unaccented_fallback_respects_typed_accents(tiny):
    assert tiny.vi_to_en("ban") == ["table"]  # "bàn" with the accent left out
    assert tiny.vi_to_en("bàn") == ["table"]
    assert tiny.vi_to_en("bán") == []  # a typed accent must match
    assert tiny.vi_to_en("van hoa") == ["culture"] and tiny.vi_to_en("văn hoá") == ["culture"]


def test_multi_word_entry_wins_over_single_words(tiny):
    groups = translate_english("What does international law say about cities?", tiny)
    assert groups == [
        Group("international law", ("luật quốc tế",)),
        Group("say", ("say",)),
        Group("cities", ("thành phố",)),
    ]
    assert translate_english("international cooperation", tiny) == [
        Group("international", ("quốc tế",)), Group("cooperation", ("hợp tác",)),
    ]


def test_words_without_entry_keep_themselves(tiny):
    assert translate_english("Where is Singapore located?", tiny) == [
        Group("Singapore", ("singapore",)), Group("located", ("located",)),
    ]
    assert translate_vietnamese("thăm Singapore", tiny) == [
        Group("thăm", ("thăm",)), Group("Singapore", ("singapore",)),
    ]


def test_english_spelling_variants_in_groups(tiny):
    assert translate_english("culture", tiny) == [Group("culture", ("văn hóa", "văn hoá"))]


# --- questions with the shipped tables -----------------------------------------------------------

def test_translate_english_sicw_question(lex):
    groups = translate_english("Which minister led Vietnam's delegation at SICW 2022?", lex)
    by_source = {g.source: g.alternatives for g in groups}
    assert [g.source for g in groups] == ["minister", "led", "Vietnam", "delegation", "SICW", "2022"]
    assert by_source["SICW"] == ("sicw",) and by_source["2022"] == ("2022",)
    assert "bộ trưởng" in by_source["minister"]
    assert "lãnh đạo" in by_source["led"]  # led -> lead
    assert by_source["Vietnam"][:2] == ("vietnam", "việt nam")  # a name first keeps itself
    assert "phái đoàn" in by_source["delegation"]
    assert not any(g.source.lower() in ("which", "at", "'s") for g in groups)


def test_translate_english_sentence_start_and_stopwords(lex):
    groups = translate_english("How many internet users did Vietnam have in 2024?", lex)
    sources = [g.source for g in groups]
    assert "How" not in sources and "many" not in sources and "did" not in sources
    assert sources[-1] == "2024"
    assert translate_english("What is the?", lex) == []
    # Sentence-initial capitals are ordinary words when the lexicon knows them.
    law = translate_english("Law and cooperation", lex)
    assert "luật" in law[0].alternatives and "law" not in law[0].alternatives


def test_translate_vietnamese_groups(lex):
    groups = translate_vietnamese("Hợp tác quốc tế về an ninh mạng", lex)
    assert [g.source for g in groups] == ["Hợp tác", "quốc tế", "an ninh", "mạng"]
    assert "cooperation" in groups[0].alternatives
    assert groups[1].alternatives == ("international",)
    assert "security" in groups[2].alternatives and "network" in groups[3].alternatives
    unaccented = translate_vietnamese("hop tac quoc te ve an ninh mang", lex)
    assert "cooperation" in unaccented[0].alternatives
    assert "international" in unaccented[1].alternatives
    assert "ve" not in [g.source for g in unaccented]


def test_translate_vietnamese_names_numbers_question_words(lex):
    groups = translate_vietnamese("Đại tướng Tô Lâm dẫn đầu đoàn nào tới SICW năm 2022?", lex)
    by_source = {g.source: g.alternatives for g in groups}
    assert by_source["Tô Lâm"] == ("tô lâm", "to lam")
    assert by_source["SICW"] == ("sicw",) and by_source["2022"] == ("2022",)
    assert "year" in by_source["năm"]
    assert "nào" not in by_source and "tới" not in by_source
    vietnam = translate_vietnamese("Việt Nam có bao nhiêu người dùng internet?", lex)
    assert "vietnam" in vietnam[0].alternatives
    assert "bao nhiêu" not in [g.source for g in vietnam] and "có" not in [g.source for g in vietnam]


def test_groups_are_frozen():
    g = Group("law", ("luật",))
    with pytest.raises(AttributeError):
        g.source = "x"


# --- the derivation script's cleaning -----------------------------------------------------------

@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("build_lexicon", ROOT / "scripts" / "build_lexicon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_builder_cleans_vietnamese_alternatives(builder):
    assert builder.clean_vi("Trung Quốc ") == "trung quốc"
    assert builder.clean_vi("đồng (銅)") is None  # brackets are stripped before, CJK is noise
    assert builder.clean_vi(builder._strip_brackets("đồng (銅)")) == "đồng"
    assert builder.clean_vi("official: Cộng Hòa Xã Hội Chủ Nghĩa Việt Nam") is None
    assert builder.clean_vi("một hai ba bốn năm sáu") is None  # > 5 syllables
    assert builder.vi_variants("sự hợp tác") == ["hợp tác", "sự hợp tác"]
    assert builder.vi_variants("sự kiện") == ["sự kiện"]


def test_builder_finds_the_head_of_short_glosses(builder):
    assert builder._gloss("to sign a treaty", None) == ("sign", "sign a treaty", "sign a treaty")
    assert builder._gloss("thyroid gland", "n") == ("gland", "thyroid gland", "thyroid gland")
    assert builder._gloss("minister of state", "n")[0] == "minister"
    assert builder._gloss("the", None) is None
    assert builder._gloss("a very long gloss of many words", None) is None


def test_builder_output_is_deterministic(builder, tmp_path):
    table = {"law": ["luật"], "city": ["thành phố", "phố"]}
    builder.write_table(table, tmp_path / "a.tsv.gz", ["header"])
    builder.write_table(dict(reversed(list(table.items()))), tmp_path / "b.tsv.gz", ["header"])
    assert (tmp_path / "a.tsv.gz").read_bytes() == (tmp_path / "b.tsv.gz").read_bytes()
    with gzip.open(tmp_path / "a.tsv.gz", "rt", encoding="utf-8") as f:
        assert f.read() == "# header\ncity\tthành phố|phố\nlaw\tluật\n"
