"""Synthetic conversations from XQuAD: later questions name their subject by a pronoun.

A paragraph's questions that mention its subject (the article title's name, or the
article's main noun phrase) become a short conversation: the first such question as
asked, then the next ones (``follow_ups``) with every mention replaced by a pronoun
that fits it (vi "nó", "ông ấy", "bà ấy", "họ", "chúng"; en "it", "he", "she",
"they", in the subject, object or possessive form the position calls for). A
question in which no mention could be replaced cleanly is left out. Each
conversation joins two such paragraphs of different articles, so every conversation
switches topic once: ``first``, ``follow-up``..., ``switch``, ``follow-up``...

Answers are the Vietnamese gold spans and the source is the paragraph's file in the
corpus ``python -m eval xquad`` writes (``<article>_<paragraph>.txt``); the question is
in the chosen language (the same question ids in both files). Each turn keeps the
question as XQuAD asks it in ``original``. The pairing is shuffled with a seed:
the same data and seed give the same conversations.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from .xquad import DEV_ARTICLES, split_of

# Pronoun by kind of subject: Vietnamese, and English (subject, object, possessive).
PRONOUNS = {
    "thing": ("nó", ("it", "it", "its")),
    "man": ("ông ấy", ("he", "him", "his")),
    "woman": ("bà ấy", ("she", "her", "her")),
    "people": ("họ", ("they", "them", "their")),
    "animals": ("chúng", ("they", "them", "their")),
}


@dataclass(frozen=True)
class Subject:
    """What a paragraph's questions are about: how each language names it, and longer names that
    contain a mention but name something else (never replaced)."""

    kind: str
    vi: tuple[str, ...]
    en: tuple[str, ...]
    blocked_vi: tuple[str, ...] = ()
    blocked_en: tuple[str, ...] = ()

    def names(self, lang: str) -> tuple[str, ...]:
        return self.vi if lang == "vi" else self.en

    def blocked(self, lang: str) -> tuple[str, ...]:
        return self.blocked_vi if lang == "vi" else self.blocked_en


def _s(kind: str, vi, en, blocked_vi=(), blocked_en=()) -> Subject:
    return Subject(kind, tuple(vi), tuple(en), tuple(blocked_vi), tuple(blocked_en))


# The main noun phrases of the dev articles (0-23), read off their questions. An
# article without an entry falls back on its title's name, as a thing.
SUBJECTS: dict[str, list[Subject]] = {
    "Super_Bowl_50": [
        _s("thing", ["Super Bowl 50"], ["Super Bowl 50"]),
        _s("people", ["đội Broncos", "Broncos"], ["the Broncos", "Broncos"]),
        _s("man", ["Peyton Manning", "Manning"], ["Peyton Manning", "Manning"]),
        _s("man", ["John Elway", "Elway"], ["John Elway", "Elway"]),
        _s("woman", ["Lady Gaga"], ["Lady Gaga"]),
        _s("woman", ["Marlee Matlin"], ["Marlee Matlin"]),
        _s("man", ["Josh Norman"], ["Josh Norman"]),
    ],
    "Warsaw": [
        _s("thing", ["Warsaw"], ["Warsaw"]),
        _s("thing", ["Polonia"], ["Polonia"]),
        _s("thing", ["WSE"], ["the WSE", "WSE"]),
    ],
    "Normans": [_s("people", ["người Norman"], ["the Normans", "Normans"])],
    "Nikola_Tesla": [_s("man", ["Nikola Tesla", "Tesla"], ["Nikola Tesla", "Tesla"])],
    "Computational_complexity_theory": [
        _s("thing", ["lý thuyết độ phức tạp tính toán", "lý thuyết phức tạp tính toán", "lý thuyết độ phức tạp"],
           ["computational complexity theory", "complexity theory"]),
    ],
    "Teacher": [_s("thing", ["trừng phạt thân thể"], ["corporal punishment"])],
    "Martin_Luther": [_s("man", ["Martin Luther", "Luther"], ["Martin Luther", "Luther"])],
    "Southern_California": [_s("thing", ["Nam California"], ["southern California"])],
    "Sky_(United_Kingdom)": [
        _s("thing", ["BSkyB"], ["BSkyB"]),
        _s("thing", ["Sky Digital"], ["Sky Digital"]),
    ],
    "Victoria_(Australia)": [_s("thing", ["Victoria"], ["Victoria"], ["Quốc hội bang Victoria"],
                                ["Parliament of Victoria"])],
    "Huguenot": [_s("people", ["người di cư Huguenot", "người Huguenot"],
                    ["the Huguenots", "Huguenots", "Huguenot settlers"])],
    "Steam_engine": [_s("thing", ["Energiprojekt AB"], ["Energiprojekt AB", "the Energiprojekt AB engine"])],
    "Oxygen": [_s("thing", ["oxi"], ["oxygen"], ["oxi lỏng", "nồng độ oxi", "lượng oxi", "dạng oxi"],
                  ["liquid oxygen", "oxygen concentrations", "amounts of oxygen", "form of oxygen"])],
    "1973_oil_crisis": [_s("thing", ["cuộc khủng hoảng dầu"], ["the oil crisis"])],
    "Apollo_program": [
        _s("thing", ["Apollo 1"], ["Apollo 1"]),
        _s("man", ["Seaman"], ["Seaman"]),
    ],
    "European_Union_law": [_s("thing", ["Liên minh châu Âu"], ["the European Union", "the EU"],
                              ["Hiến chương Liên minh châu Âu", "pháp luật Liên minh châu Âu",
                               "thể chế Liên minh châu Âu"])],
    "Amazon_rainforest": [_s("thing", ["rừng mưa nhiệt đới amazon", "rừng nhiệt đới Amazon", "rừng Amazon"],
                             ["the Amazon rainforest", "the amazon tropical rain forest", "the Amazon forest",
                              "the amazon forest"])],
    "Ctenophora": [_s("animals", ["sứa lược"], ["ctenophores", "ctenophora"],
                      ["loài sứa lược", "sứa lược có tua", "sứa lược ven biển", "sứa lược khác",
                       "sứa lược hiện tại"], ["current ctenophores"])],
    "Fresno,_California": [_s("thing", ["Fresno"], ["Fresno"], ["khu phố Fresno"], ["Fresno neighborhood"])],
    "Packet_switching": [
        _s("thing", ["DECnet"], ["DECnet"], ["DECnet giai đoạn"], ["DECnet phase"]),
        _s("thing", ["internet2"], ["internet2"], ["mạng internet2"], ["internet2 network"]),
    ],
    "Black_Death": [
        _s("thing", ["Cái chết đen"], ["the black death"]),
        _s("thing", ["bệnh dịch hạch"], ["the plague", "plague"],
           ["bệnh dịch hạch đen", "lần bùng phát bệnh dịch hạch"],
           ["black plague", "plague outbreak", "plague pandemic"]),
    ],
    "Geology": [
        _s("man", ["James Hutton"], ["James Hutton"]),
        _s("man", ["Shen Kuo"], ["Shen Kuo"]),
    ],
    "Newcastle_upon_Tyne": [
        _s("thing", ["Newcastle"], ["Newcastle"], ["Đại học Newcastle", "thành phố Newcastle"],
           ["Newcastle University", "Newcastle native"]),
        _s("thing", ["Chợ Grainger"], ["the Grainger Market"]),
    ],
    "Victoria_and_Albert_Museum": [
        _s("thing", ["V&A", "V & A"], ["the V&A"]),
        _s("man", ["John Sheepshanks", "Sheepshanks"], ["John Sheepshanks", "Sheepshanks"]),
    ],
}

# English words after which a name is the subject of the clause (else it is an object).
EN_SUBJECT_AFTER = {"did", "does", "do", "was", "is", "were", "are", "has", "have", "had", "can", "could", "will",
                    "would", "should", "may", "might", "must", "when", "where", "why", "how", "what", "who",
                    "which", "that", "and", "or", "but", "while"}
# Verbs that follow a subject ("the text says Lady Gaga has won").
EN_AUXILIARIES = {"has", "have", "had", "is", "was", "were", "are", "did", "does", "do", "will", "would", "can",
                  "could"}
# A noun after these would need a classifier or a locative the pronoun cannot carry.
VI_NOT_AFTER = {"một", "các", "những", "loài", "con", "mỗi", "vài"}
VI_THING_NOT_AFTER = {"ở", "tại"}
EN_NOT_AFTER = {"the", "a", "an", "other", "each", "every", "its", "his", "her", "their", "our", "my", "your"}
POSSESSIVE = re.compile(r"^(?:'s|’s|'|’)(?!\w)")
WORD = re.compile(r"[\w&+.'’-]+")


def title_subject(title: str) -> Subject:
    """An article's name from its title: underscores to spaces, without a parenthesis or what follows a comma."""
    name = re.sub(r"\s*\(.*?\)", "", title.replace("_", " ")).split(",")[0].strip()
    return Subject("thing", (name,), (name,))


def subjects_of(title: str) -> list[Subject]:
    return SUBJECTS.get(title) or [title_subject(title)]


def _pattern(names) -> re.Pattern:
    alternatives = sorted(set(names), key=len, reverse=True)
    # Not inside a word, a quotation or a longer token ("Sky+", "V&A-").
    return re.compile(r"(?<![\w&+'’\"“])(?:" + "|".join(re.escape(n) for n in alternatives)
                      + r")(?![\w&+\"”-])", re.IGNORECASE)


def _word_before(text: str, start: int) -> str:
    head = text[:start].rstrip()
    if head.endswith(","):
        return ","
    found = WORD.findall(head)
    return found[-1] if found else ""


def _word_after(text: str, end: int) -> str:
    m = WORD.match(text[end:].lstrip())
    return m.group(0) if m and text[end:end + 1].isspace() else ""


def mentions(question: str, subject: Subject, lang: str) -> list[re.Match]:
    return list(_pattern(subject.names(lang)).finditer(question))


def _replaceable(question: str, m: re.Match, subject: Subject, lang: str) -> bool:
    blocked = subject.blocked(lang)
    if blocked and any(b.start() < m.end() and m.start() < b.end()
                       for b in _pattern(blocked).finditer(question)):
        return False
    before, after = _word_before(question, m.start()), _word_after(question, m.end())
    at_start = not question[:m.start()].strip()
    # A capitalised neighbour makes the mention part of a longer name ("Tesla Electric", "Polonia Warsaw").
    if after[:1].isupper() or after[:1].isdigit() or (before[:1].isupper() and not at_start):
        return False
    if lang == "vi":
        return before.lower() not in VI_NOT_AFTER and not (subject.kind == "thing"
                                                           and before.lower() in VI_THING_NOT_AFTER)
    return before.lower() not in EN_NOT_AFTER or m.group(0).lower().startswith("the ")


def _pronoun(question: str, m: re.Match, subject: Subject, lang: str) -> tuple[str, int]:
    """The pronoun for mention ``m`` and how many characters after it it also replaces (an "'s")."""
    vi, (subj, obj, poss) = PRONOUNS[subject.kind]
    if lang == "vi":
        return vi, 0
    owner = POSSESSIVE.match(question[m.end():])
    if owner:
        return poss, len(owner.group(0))
    before = _word_before(question, m.start()).lower()
    after = _word_after(question, m.end()).lower()
    subject_position = (not question[:m.start()].strip() or before in EN_SUBJECT_AFTER or before == ","
                        or after in EN_AUXILIARIES)
    return (subj if subject_position else obj), 0


def replace_subject(question: str, subject: Subject, lang: str) -> str | None:
    """``question`` with every mention of ``subject`` replaced by a pronoun; None when a mention cannot be
    replaced cleanly or there is none."""
    found = mentions(question, subject, lang)
    if not found or not all(_replaceable(question, m, subject, lang) for m in found):
        return None
    out, last = [], 0
    for m in found:
        pronoun, extra = _pronoun(question, m, subject, lang)
        if not question[:m.start()].strip():
            pronoun = pronoun[0].upper() + pronoun[1:]
        out += [question[last:m.start()], pronoun]
        last = m.end() + extra
    return "".join(out + [question[last:]]).strip()


@dataclass
class ParagraphTurns:
    pid: str
    article: int
    turns: list[dict]  # the first question as asked, then the follow-ups with a pronoun


def paragraph_turns(article: int, paragraph: int, title: str, questions: list[tuple[str, str]],
                    answers: dict[str, list[str]], lang: str, follow_ups: int) -> ParagraphTurns | None:
    """The paragraph's conversation about its most mentioned subject, or None without a follow-up."""
    unique, seen = [], set()
    for qid, q in questions:  # XQuAD repeats some questions within a paragraph
        key = " ".join(q.lower().split())
        if key not in seen:
            seen.add(key)
            unique.append((qid, q.strip()))
    pid = f"{article:02d}_{paragraph}"
    best = None
    for subject in subjects_of(title):
        named = [(qid, q) for qid, q in unique if mentions(q, subject, lang) and answers.get(qid)]
        if not named:
            continue
        first, rest = named[0], named[1:]
        later = [(qid, q, r) for qid, q in rest if (r := replace_subject(q, subject, lang))][:follow_ups]
        if later and (best is None or len(later) > len(best[1])):
            best = (first, later)
    if best is None:
        return None
    (qid, q), later = best
    source = f"{pid}.txt"
    turns = [{"question": q, "original": q, "answers": answers[qid], "source": source, "id": qid}]
    turns += [{"question": r, "original": q2, "answers": answers[qid2], "source": source, "id": qid2}
              for qid2, q2, r in later]
    return ParagraphTurns(pid, article, turns)


def build(data: dict[str, list[dict]], lang: str, *, seed: int = 0, articles=DEV_ARTICLES,
          follow_ups: int = 2) -> list[dict]:
    """Conversation turns (the gold-conversation format plus ``original``) from XQuAD-like data.

    ``data``: {"vi": [...], "en": [...]}, the ``data`` lists of the two SQuAD files (the answers
    come from "vi", the questions from ``lang``); ``articles``: the article indexes used.
    """
    vi = data["vi"]
    asked = data[lang]
    paragraphs = []
    for a in articles:
        if a >= len(vi):
            continue
        for p, par in enumerate(vi[a]["paragraphs"]):
            answers = {qa["id"]: sorted({x["text"] for x in qa["answers"]}) for qa in par["qas"]}
            questions = [(qa["id"], qa["question"]) for qa in asked[a]["paragraphs"][p]["qas"]]
            found = paragraph_turns(a, p, vi[a]["title"], questions, answers, lang, follow_ups)
            if found:
                paragraphs.append(found)
    random.Random(seed).shuffle(paragraphs)
    rows = []
    n = 0
    while paragraphs:
        first = paragraphs.pop(0)
        other = next((p for p in paragraphs if p.article != first.article), None)
        if other is None:
            break
        paragraphs.remove(other)
        n += 1
        turns = [("first", first.turns[0])] + [("follow-up", t) for t in first.turns[1:]] + \
            [("switch", other.turns[0])] + [("follow-up", t) for t in other.turns[1:]]
        for i, (kind, t) in enumerate(turns, 1):
            rows.append({"conversation": f"x{lang}{n:03d}", "turn": i, "kind": kind, "lang": lang,
                         "question": t["question"], "original": t["original"], "answers": t["answers"],
                         "source": t["source"], "split": split_of(t["source"].split(".")[0]), "id": t["id"]})
    return rows


def load(data_dir: Path, lang: str, **kw) -> list[dict]:
    """:func:`build` on ``xquad.vi.json`` and ``xquad.en.json`` in ``data_dir``."""
    data = {x: json.loads((Path(data_dir) / f"xquad.{x}.json").read_text(encoding="utf-8"))["data"]
            for x in ("vi", "en")}
    return build(data, lang, **kw)
