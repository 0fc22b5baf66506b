"""The span of a quote that answers the question's type: a date, a number, a name, a place."""
from __future__ import annotations

import re

from .question import Question, content_words
from .text import fold, has_diacritics, words


_DAY = (r"(?:(?:sáng|chiều|tối|trưa)\s+)?(?:ngày\s+)?(?:\d{1,2}\s*[-–]\s*)?\d{1,2}[/-]\d{1,2}"
        r"(?:[/-]\d{4})?(?![\d/])")
_MONTH = r"(?:tháng\s+)?\d{1,2}/\d{4}\b|tháng\s+\d{1,2}\b"
_YEAR = r"(?:năm\s+)?\b(?:19|20)\d{2}\b"
_DATES_BY_PRECISION = [re.compile(p, re.IGNORECASE) for p in (_DAY, _MONTH, _YEAR)]
_DATE = re.compile("|".join((_DAY, _MONTH, _YEAR)), re.IGNORECASE)
# A number with its multiplier or unit: "78,44 triệu", "64,78%", "hơn 150 quốc gia".
_NUMBER = re.compile(
    r"(?<![\w/.,-])(?:(?:hơn|gần|khoảng|trên|dưới)\s+)?\d+(?:[.,]\d+)*(?![\d/-])"
    r"(?:\s*%(?:\s+[^\W\d]+){0,2}|\s+(?:triệu|tỷ|nghìn|ngàn)(?:\s+[^\W\d]+)?|(?:\s+[^\W\d]+){1,2})?",
    re.IGNORECASE)
_TOKEN = re.compile(r"[^\W\d_][\w&]*\.?")
# Words that open organisation names or titles, not people.
_NOT_PERSON = {"bo", "cuc", "co", "hoi", "trung", "lien", "uy", "hoc", "truong", "ban", "vien",
               "so", "cong", "quan", "hiep", "dai", "thu", "pho", "chu", "tong", "ngay", "theo", "tai",
               "ong", "ba", "viet", "nhat", "tuan", "dien", "trien", "thieu", "trong", "sau", "voi"}
_PERSON_CUE = re.compile(r"(?:ông|bà|tướng|trưởng|sứ|tá|thư ký|lệnh|GS\.|TS\.|Mr\.?|Ms\.?)\s*$", re.IGNORECASE)
# A place follows "tại Hà Nội", "ở thủ đô Vientiane", "in Paris", "at the University of Paris".
_PLACE_CUE = re.compile(r"(?:(?:tại|ở)\s+(?:\w+\s+){0,2}|\b(?:in|at|near)\s+(?:the\s+)?)$", re.IGNORECASE)


def _capitalised_runs(text: str) -> list[tuple[int, int]]:
    """Spans of consecutive capitalised words ("Trần Quang Hưng", "K. Shanmugam")."""
    runs: list[list[int]] = []
    prev_end = -2
    for m in _TOKEN.finditer(text):
        word = m.group(0)
        if not word[0].isupper():
            prev_end = -2
            continue
        if runs and text[prev_end:m.start()] in (" ", "") and prev_end >= 0:
            runs[-1][1] = m.end()
        else:
            runs.append([m.start(), m.end()])
        prev_end = m.end() if not word.endswith(".") or len(word) <= 2 else -2
    return [(a, b - 1 if text[b - 1] == "." and b - a > 2 else b) for a, b in runs]


def _name_span(text: str, question_words: set[str], cue: re.Pattern,
               min_words: int) -> tuple[tuple[int, int] | None, bool]:
    """(span, whether a cue introduced it): the first cued name, else the first likely one."""
    fallback = None
    for start, end in _capitalised_runs(text):
        name = text[start:end]
        parts = [fold(w).lower().rstrip(".") for w in name.split()]
        # Leading title words ("Bà", "Đại sứ") are not the name.
        while parts and parts[0] in _NOT_PERSON:
            skip = len(name.split()[0]) + 1
            start, name, parts = start + skip, name[skip:], parts[1:]
        if len(parts) < min_words or set(parts) <= question_words:
            continue
        if cue.search(text[max(0, start - 20):start]):
            return (start, end), True
        # Without a cue, a capitalised sentence opening ("Lễ khai mạc") is no name.
        if fallback is None and start > 0 and len(parts) >= 2:
            fallback = (start, end)
    return fallback, False


# "Ai ký ...?" / "Who signed ...?" ask for the subject of the verb: the answer stands
# before the verb in the sentence. "Ai là ...?" / "Who is ...?" ask for an identity.
_SUBJECT_VI = re.compile(r"^\s*ai\s+(\w+)", re.IGNORECASE)
_SUBJECT_EN = re.compile(r"^\s*who\s+(\w+)", re.IGNORECASE)
_NOT_ACTION = {"la", "is", "was", "are", "were", "be", "has", "had", "have", "will", "would", "can"}
_AUXILIARY_TAIL = re.compile(r"(?:\s+(?:đã|sẽ|đang|cũng|vừa|mới|cùng|đều|chính thức))+\s*$", re.IGNORECASE)
_SEGMENT = re.compile(r"[,;:]\s*|\s+(?:và|cùng với|với)\s+", re.IGNORECASE)


def _verb_position(text: str, question: Question) -> int | None:
    """Where the question's verb first stands in ``text`` (None when it does not)."""
    vi = _SUBJECT_VI.match(question.text)
    en = _SUBJECT_EN.match(question.text) if vi is None else None
    if vi and fold(vi.group(1)).lower() not in _NOT_ACTION:
        forms = [vi.group(1).lower()]
    elif en and en.group(1).lower() not in _NOT_ACTION:
        from .lexicon import Lexicon

        forms = Lexicon.load().en_to_vi(en.group(1).lower())
    else:
        return None
    accented = has_diacritics(question.text)
    haystack = text.lower() if accented else fold(text).lower()
    found = [m.start() for f in forms if f
             for m in [re.search(rf"(?<!\w){re.escape(f if accented else fold(f))}(?!\w)", haystack)] if m]
    return min(found) if found else None


def _subject_span(text: str, question: Question, asked: set[str]) -> tuple[int, int] | None:
    """The first name-like phrase before the question's verb that the question does not contain."""
    verb = _verb_position(text, question)
    if not verb:
        return None
    cursor = 0
    for m in list(_SEGMENT.finditer(text, 0, verb)) + [None]:
        end = m.start() if m else verb
        segment = text[cursor:end]
        segment = _AUXILIARY_TAIL.sub("", segment)
        start = cursor + len(segment) - len(segment.lstrip())
        stop = cursor + len(segment.rstrip())
        capitalised = [w for w in text[start:stop].split() if w[:1].isupper() or w[:2] == "(" + w[1:2].upper()]
        folded = {fold(w).lower().strip("()") for w in text[start:stop].split()}
        if len(capitalised) >= 2 and not (folded & asked):
            return start, stop
        cursor = m.end() if m else verb
    return None


def highlight(text: str, question: Question) -> tuple[int, int] | None:
    """(start, end) inside ``text`` of the span answering the question's type, if found."""
    q_words = content_words(question.text)
    if question.kind == "when":
        # The most specific date wins: a day over a month over a bare year;
        # a date the question already states ("SICW 2022") is not the answer.
        asked = fold(question.text).lower()
        for pattern in _DATES_BY_PRECISION:
            for m in pattern.finditer(text):
                if re.sub(r"^\D+", "", fold(m.group(0)).lower()) not in asked:
                    return m.start(), m.end()
        return None
    if question.kind == "how_many":
        pos = 0
        while (m := _NUMBER.search(text, pos)) is not None:
            digits = re.search(r"\d[\d.,]*", m.group(0))
            if re.fullmatch(r"(?:19|20)\d\d", digits.group(0)):  # a year, not a count
                pos = m.start() + digits.end()
                continue
            return m.start(), m.end()
        return None
    if question.kind == "who":
        # A name the question itself holds is not the answer, however it is typed
        # ("bo truong to lam gap ai": "to" and "lam" are stopwords, not content words).
        asked = {fold(w) for w in words(question.text)}
        span, cued = _name_span(text, asked, _PERSON_CUE, min_words=2)
        if cued:
            return span
        return _subject_span(text, question, _question_names(question)) or span
    if question.kind == "where":
        # Only a cued name is a place: "ICT for Peace Foundation" in a sentence that names
        # no place is an organiser, and would hide the sentence saying "tại Hà Nội".
        span, cued = _name_span(text, q_words, _PLACE_CUE, min_words=1)
        return span if cued else None
    return None


def _question_names(question: Question) -> set[str]:
    """Folded words of the names and acronyms the question holds ("CISA", "Việt Nam")."""
    tokens = question.text.split()
    return {fold(t).lower().strip("?.,!()\"'") for i, t in enumerate(tokens)
            if i > 0 and t[:1].isupper()}
