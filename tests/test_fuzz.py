"""Property tests (hypothesis) for text handling, question parsing and the answer path.

Example counts are modest here; ``make stress`` raises them (FUZZ_EXAMPLES,
FUZZ_ANSWER_EXAMPLES).
"""
from __future__ import annotations

import json
import os
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import assert_verbatim
from index import answer
from index.question import MESSAGES, BadQuestion, parse
from index.text import fold, normalize, sentence_spans

N_PURE = int(os.environ.get("FUZZ_EXAMPLES", "200"))
N_ANSWER = int(os.environ.get("FUZZ_ANSWER_EXAMPLES", "25"))
PURE = settings(max_examples=N_PURE, deadline=None, derandomize=not os.environ.get("FUZZ_RANDOM"))
SLOW = settings(max_examples=N_ANSWER, deadline=None, derandomize=not os.environ.get("FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

VIET = list("aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵĐ")
PUNCT = list(" .,;:!?…\"'“”()«»-–/%\n\n\t\r\u00a0\u200b") + ["TP.", "GS.", "12/10/2017", "78,44", "390.000", "Ông"]
viet_text = st.lists(st.sampled_from(VIET + PUNCT), max_size=300).map("".join)
surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
any_text = st.one_of(
    st.text(max_size=300),
    viet_text,
    st.tuples(viet_text, surrogates, viet_text).map("".join),
    st.text(st.characters(max_codepoint=0x3F), max_size=100),  # ASCII controls and punctuation
)


@PURE
@given(any_text)
def test_fold_preserves_length_and_is_idempotent(s):
    folded = fold(s)
    assert len(folded) == len(s)
    assert fold(folded) == folded
    assert "đ" not in folded and "Đ" not in folded


@PURE
@given(st.one_of(st.text(max_size=300), viet_text))
def test_normalize_is_nfc_and_idempotent(s):
    out = normalize(s)
    assert unicodedata.is_normalized("NFC", out)
    assert "\r" not in out and "\u200b" not in out
    assert normalize(out) == out


@PURE
@given(any_text)
def test_sentence_spans_are_ordered_disjoint_and_trimmed(s):
    spans = sentence_spans(s)
    prev_end = 0
    for start, end in spans:
        assert prev_end <= start < end <= len(s)
        piece = s[start:end]
        assert piece == piece.strip() and any(c.isalnum() for c in piece)
        assert "\n" not in piece  # lines are hard boundaries
        prev_end = end


@PURE
@given(any_text)
def test_parse_accepts_or_rejects_with_a_known_code(s):
    try:
        q = parse(s, 200)
    except BadQuestion as bad:
        assert bad.code in MESSAGES and bad.language in ("vi", "en")
        return
    assert q.language in ("vi", "en")
    assert q.text == q.text.strip() and unicodedata.is_normalized("NFC", q.text)
    assert len(q.text) <= 200 and any(c.isalnum() for c in q.text)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in q.text)
    assert q.kind in (None, "when", "how_many", "who", "where")


@SLOW
@given(st.one_of(any_text, st.lists(st.sampled_from(
    ["Việt Nam", "internet", "an ninh mạng", "bao nhiêu", "khi nào", "ai", "ASEAN", "2024", "who", "when",
     "how many", "Tô Lâm", "hội nghị", "?", "<script>", "\x00"]), max_size=12).map(" ".join)))
def test_answer_never_raises_and_quotes_are_verbatim(engine, s):
    d = answer(engine, s).to_dict()
    json.dumps(d, ensure_ascii=False).encode("utf-8")
    assert d["message"] and d["language"] in ("vi", "en")
    assert_verbatim(engine.generation.articles, d)
