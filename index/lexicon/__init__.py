"""Bilingual English <-> Vietnamese lexicon for cross-lingual keyword matching.

The tables are derived by ``scripts/build_lexicon.py`` into ``index/data``
(one gzipped TSV per source, each under its source's licence, see
``index/data/LEXICON-NOTICE.md``)::

    english<TAB>vi1|vi2|...

English keys are lowercase lemmas or phrases of up to three words; the
Vietnamese alternatives are NFC, lowercase, best first, with the tone mark of
open ``oa``/``oe``/``uy`` syllables in one canonical place ("hóa", "thủy", see
:func:`normalize_vi`).

Two question-side helpers turn a question into keyword *groups*, one per
question word or phrase, whose alternatives are the strings to look for in
articles of the other language::

    lex = Lexicon.load()
    translate_english("Which minister led Vietnam's delegation?", lex)
    translate_vietnamese("Hợp tác quốc tế về an ninh mạng", lex)

Only the standard library and :mod:`index.text` are used, so importing this
module is cheap.
"""
from .english import EN_STOPWORDS, lemmas
from .table import DATA_DIR, MAX_ALTERNATIVES, Lexicon, default_paths, read_table
from .translate import VI_STOP_PHRASES, VI_STOP_SYLLABLES, Group, translate_english, translate_vietnamese
from .vietnamese import normalize_vi, spelling_variants

__all__ = ["DATA_DIR", "EN_STOPWORDS", "MAX_ALTERNATIVES", "VI_STOP_PHRASES", "VI_STOP_SYLLABLES", "Group",
           "Lexicon", "default_paths", "lemmas", "normalize_vi", "read_table", "spelling_variants",
           "translate_english", "translate_vietnamese"]
