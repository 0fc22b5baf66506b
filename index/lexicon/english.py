"""English side of the lexicon: stopwords and lemmatisation by suffix rules."""
from __future__ import annotations

from ..text import nfc

# Function words and question words; never looked up, never kept.
EN_STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been
before being below between both but by can can't cannot could couldn't did didn't do does
doesn't doing don't down during each either else ever every few for from further get gets got
had hadn't has hasn't have haven't having he her here hers herself him himself his how i if in
into is isn't it it's its itself just least less let many may me might mine more most much must
my myself neither no nor not now of off on once one's only onto or other others otherwise ought
our ours ourselves out over own per rather same shall she should so some such than that the
their theirs them themselves then there these they this those though through thus to too toward
towards under until up upon us very via was wasn't we were weren't what whatever when whenever
where whereas wherever whether which whichever while who whoever whom whose why will with within
without won't would wouldn't yet you your yours yourself
s t d ll m re ve
""".split())

# Irregular forms -> lemma (regular ones are handled by suffix rules).
IRREGULAR = {
    "am": "be", "is": "be", "are": "be", "was": "be", "were": "be", "been": "be", "being": "be",
    "has": "have", "had": "have", "having": "have", "does": "do", "did": "do", "done": "do",
    "went": "go", "gone": "go", "goes": "go", "made": "make", "took": "take", "taken": "take",
    "came": "come", "got": "get", "gotten": "get", "gave": "give", "given": "give",
    "found": "find", "held": "hold", "led": "lead", "won": "win", "built": "build",
    "began": "begin", "begun": "begin", "became": "become", "brought": "bring",
    "bought": "buy", "thought": "think", "told": "tell", "said": "say", "saw": "see",
    "seen": "see", "knew": "know", "known": "know", "wrote": "write", "written": "write",
    "ran": "run", "fell": "fall", "fallen": "fall", "grew": "grow", "grown": "grow",
    "spent": "spend", "sent": "send", "lost": "lose", "left": "leave", "met": "meet",
    "paid": "pay", "sold": "sell", "stood": "stand", "fought": "fight", "taught": "teach",
    "caught": "catch", "chose": "choose", "chosen": "choose", "drove": "drive",
    "driven": "drive", "rose": "rise", "risen": "rise", "spoke": "speak", "spoken": "speak",
    "broke": "break", "broken": "break", "struck": "strike", "froze": "freeze",
    "frozen": "freeze", "ate": "eat", "eaten": "eat", "drew": "draw", "drawn": "draw",
    "flew": "fly", "flown": "fly", "hid": "hide", "hidden": "hide", "kept": "keep",
    "meant": "mean", "felt": "feel", "dealt": "deal", "fed": "feed", "fled": "flee",
    "heard": "hear", "laid": "lay", "lay": "lie", "lain": "lie", "sat": "sit", "slept": "sleep",
    "sought": "seek", "shot": "shoot", "shown": "show", "sank": "sink", "sunk": "sink",
    "swam": "swim", "threw": "throw", "thrown": "throw", "understood": "understand",
    "wore": "wear", "worn": "wear", "woke": "wake", "bore": "bear", "born": "bear",
    "borne": "bear", "forgot": "forget", "forgotten": "forget", "overcame": "overcome",
    "undertook": "undertake", "withdrew": "withdraw", "withdrawn": "withdraw",
    "men": "man", "women": "woman", "children": "child", "people": "person", "feet": "foot",
    "teeth": "tooth", "mice": "mouse", "geese": "goose", "lives": "life", "wives": "wife",
    "knives": "knife", "leaves": "leaf", "halves": "half", "wolves": "wolf",
    "thieves": "thief", "better": "good", "best": "good", "worse": "bad", "worst": "bad",
    "further": "far", "farther": "far", "criteria": "criterion", "phenomena": "phenomenon",
    "analyses": "analysis", "crises": "crisis", "theses": "thesis", "bases": "base",
}
# Words ending in -s that are not plurals ("news" is not "new").
_NOT_PLURAL = frozenset("""
news series species means physics economics politics mathematics statistics ethics athletics
genetics linguistics electronics lens gas bus plus canvas atlas alias bias chaos
""".split())
_VOWELS = set("aeiou")


def _cvc(stem: str) -> bool:
    """Consonant-vowel-consonant ending ("hop", "writ"): the lemma usually adds an -e."""
    return (len(stem) >= 3 and stem[-1] not in _VOWELS and stem[-1] not in "wxy"
            and stem[-2] in _VOWELS and stem[-3] not in _VOWELS)


def _undouble(stem: str) -> str | None:
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS and stem[-1] not in "lsz":
        return stem[:-1]
    return None


def lemmas(word: str) -> list[str]:
    """Lemma candidates of an English word, the (lower-cased) word itself first.

    Suffix rules for plurals (-s, -es, -ies), past forms (-ed, -ied), -ing,
    comparatives (-er, -est), -ly and the possessive -'s, plus a table of
    irregular forms. Candidates are not checked against a dictionary: the
    caller takes the first one it knows.

    Parameters
    ----------
    word : str
        One English word, any case.

    Returns
    -------
    list of str
        Distinct candidates, most likely first after the word itself.

    Examples
    --------
    >>> lemmas("signed")[:3]
    ['signed', 'signe', 'sign']
    >>> "city" in lemmas("cities") and "be" in lemmas("were")
    True
    """
    w = nfc(word).strip().lower().replace("’", "'")
    out: list[str | None] = [w]
    if w.endswith("'s") or w.endswith("s'"):
        w = w[:-2] if w.endswith("'s") else w[:-1]
        out.append(w)
    if w in IRREGULAR:
        out.append(IRREGULAR[w])
    n = len(w)
    if n > 4 and w.endswith("ies"):
        out += [w[:-3] + "y", w[:-1]]
    elif n > 3 and w.endswith(("sses", "xes", "ches", "shes", "zes", "oes")) and w not in _NOT_PLURAL:
        out += [w[:-2], w[:-1]]
    elif n > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")) and w not in _NOT_PLURAL:
        out += [w[:-1], w[:-2]] if w.endswith("es") else [w[:-1]]
    if n > 4 and w.endswith("ied"):
        out += [w[:-3] + "y", w[:-1]]
    elif n > 3 and w.endswith("ed"):
        out += [w[:-1], w[:-2], _undouble(w[:-2])]
    if n > 4 and w.endswith("ing"):
        stem = w[:-3]
        out += [stem + "e", stem] if _cvc(stem) else [stem, stem + "e"]
        out.append(_undouble(stem))
    if n > 5 and w.endswith("iest"):
        out.append(w[:-4] + "y")
    elif n > 4 and w.endswith("est"):
        out += [w[:-2], w[:-3], _undouble(w[:-3])]
    if n > 4 and w.endswith("ier"):
        out.append(w[:-3] + "y")
    elif n > 4 and w.endswith("er"):
        out += [w[:-1], w[:-2], _undouble(w[:-2])]
    if n > 5 and w.endswith("ily"):
        out.append(w[:-3] + "y")
    elif n > 4 and w.endswith("ly"):
        out.append(w[:-2])
    seen: set[str] = set()
    return [c for c in out if c and not (c in seen or seen.add(c))]
