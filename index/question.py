"""Understanding the question: validation, language (vi/en) and expected answer type."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .text import fold, has_diacritics, nfc, words

# Unaccented Vietnamese is common, so diacritics alone cannot tell the language:
# frequent Vietnamese syllables (folded) versus frequent English words decide.
_VI_WORDS = set("""
la cua va cac nhung mot nhu nao gi ai bao nhieu khi dau sao the thi duoc trong voi cho tai ve
nam ngay thang nguoi viet hop tac an ninh mang quoc te bo truong hoi nghi thao nuoc co khong
da dang se tu den tren theo cung nay do lam di ra vao phai chu tich dai su thong tin toan
chinh phu nha gia linh vuc toi pham cong uoc lien dong nam a ky ket giua hai ba bon muoi
ten nhat luc ho ong ba chi anh em ban minh chung toi gom bieu phat dieu boi vi nen neu
xin chao cam on vang da roi chua
""".split())
_EN_WORDS = set("""
the a an of to in on at for by with from about into is are was were be been being do does did
what which who whom whose when where why how many much who's what's there this that these those
it its he she they them his her their has have had will would can could should may might
and or not no yes than then as if did year date country countries people number minister meeting
conference cooperation cybersecurity security vietnam vietnamese article say said according signed
""".split())
_AMBIGUOUS = {"an", "a", "the", "do", "co", "to", "ban", "ten", "hai", "ba", "bon"}


@dataclass(frozen=True)
class Question:
    text: str  # NFC, whitespace collapsed
    language: str  # "vi" | "en"
    kind: str | None  # "when" | "how_many" | "who" | "where" | None
    keywords: str  # what the keyword index is asked for (see ``keyword_query``)


class BadQuestion(ValueError):
    """A question that cannot be answered as typed; ``code`` names the reason."""

    def __init__(self, code: str, language: str = "en"):
        super().__init__(code)
        self.code = code
        self.language = language


MESSAGES = {
    "bad_history": {"vi": "Lịch sử hội thoại không hợp lệ:", "en": "The conversation history is malformed:"},
    "empty": {"vi": "Vui lòng nhập câu hỏi.", "en": "Please type a question."},
    "too_long": {
        "vi": "Câu hỏi quá dài (tối đa {limit} ký tự).",
        "en": "The question is too long (at most {limit} characters).",
    },
    "control_chars": {
        "vi": "Câu hỏi chứa ký tự điều khiển không hợp lệ.",
        "en": "The question contains invalid control characters.",
    },
    "invalid_text": {
        "vi": "Câu hỏi chứa ký tự Unicode không hợp lệ.",
        "en": "The question contains invalid Unicode characters.",
    },
    "no_words": {
        "vi": "Câu hỏi không có từ nào để tìm kiếm.",
        "en": "The question has no words to search for.",
    },
    "unsupported_language": {
        "vi": "Chỉ hỗ trợ câu hỏi tiếng Việt hoặc tiếng Anh.",
        "en": "Only questions in Vietnamese or English are supported.",
    },
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def detect_language(text: str) -> str:
    """'vi' or 'en' for a question in Latin script."""
    vi = en = 0.0
    for token in re.findall(r"\w+", nfc(text)):
        folded = fold(token).lower()
        if folded != token.lower():
            # Marked lower-case syllables are Vietnamese; capitalised ones are
            # often names inside English questions ("Who is Tô Lâm?").
            vi += 0.5 if token[0].isupper() else 2
        elif folded in _VI_WORDS and folded not in _AMBIGUOUS:
            vi += 1
        if folded in _EN_WORDS and folded not in _AMBIGUOUS:
            en += 1
        elif folded in ("the", "a", "an", "to", "do"):
            en += 0.5
    if vi == en:
        return "vi" if has_diacritics(text) else "en"
    return "vi" if vi > en else "en"


def _script_ok(text: str) -> bool:
    """Latin letters (plus digits) must dominate; other scripts are out of scope."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return True
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return latin >= 0.6 * len(letters)


def parse(raw: object, max_chars: int = 2000) -> Question:
    """Validate and normalise a question, or raise ``BadQuestion``."""
    if not isinstance(raw, str):
        raise BadQuestion("empty")
    # The language of the error message: detected on a bounded, encodable sample
    # (a toned letter such as "ệ" is not caught by a plain-letter test).
    sample = raw[:500].encode("utf-8", "replace").decode("utf-8")
    guess = detect_language(sample) if _script_ok(sample) else "en"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in raw):
        raise BadQuestion("invalid_text", guess)
    if len(raw) > max_chars:
        raise BadQuestion("too_long", guess)
    if not raw.strip():
        raise BadQuestion("empty", guess)
    if _CONTROL.search(raw.replace("\t", " ").replace("\n", " ").replace("\r", " ")):
        raise BadQuestion("control_chars", guess)
    text = " ".join(nfc(raw).split())
    if not any(c.isalnum() for c in text):
        raise BadQuestion("no_words", guess)
    if not _script_ok(text):
        raise BadQuestion("unsupported_language", guess)
    language = detect_language(text)
    return Question(text=text, language=language, kind=question_kind(text),
                    keywords=keyword_query(text, language))


def keyword_query(text: str, language: str) -> str:
    """The words worth matching literally against Vietnamese articles.

    English words never occur in the articles, while English function words
    collide with Vietnamese syllables ("an" in "an ninh", "do", "to"); only
    names, acronyms and numbers of an English question can match literally.
    """
    if language == "vi":
        return text
    tokens = re.findall(r"[\w&.-]+", text)
    keep = [t for i, t in enumerate(tokens)
            if any(c.isdigit() for c in t) or (t[0].isupper() and (i > 0 or t.isupper()))]
    return " ".join(t.split("'")[0] for t in keep)


_KINDS = [
    ("when", r"\b(khi nao|bao gio|luc nao|ngay nao|nam nao|thang nao|thoi gian nao|thoi diem nao|"
             r"when|what dates?|which dates?|what year|which year|what day|which day|what month|which month)\b"),
    ("how_many", r"\b(bao nhieu|so luong|ty le|how many|how much|what number|what percentage|"
                 r"what share|what proportion)\b"),
    ("who", r"\b(ai|nguoi nao|vi nao|who|whom|whose)\b"),
    ("where", r"\b(o dau|tai dau|noi nao|dia diem nao|where|in which city|in which country)\b"),
]


def question_kind(text: str) -> str | None:
    key = fold(text).lower()
    for kind, pattern in _KINDS:
        if re.search(pattern, key):
            return kind
    return None


def message(code: str, language: str, **values) -> str:
    return MESSAGES[code]["vi" if language == "vi" else "en"].format(**values)


# Words that carry no topic: question words and function words in both languages (folded).
STOPWORDS = set("""
la cua va cac nhung mot nhu nao gi ai bao nhieu khi dau sao the thi duoc trong voi cho tai ve
co khong da dang se tu den tren theo cung nay do lam di ra vao phai o ma hay hoac boi vi nen neu
gio luc ngay nam thang nguoi
the a an of to in on at for by with from about into is are was were be been being do does did
what which who whom whose when where why how many much there this that these those it its
he she they them his her their has have had will would can could should may might and or not
""".split())


def content_words(text: str) -> set[str]:
    """Folded words that carry the topic: no stopwords, no single letters."""
    return {w for w in (fold(t) for t in words(text)) if w not in STOPWORDS and len(w) > 1}
