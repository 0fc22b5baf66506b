"""``python -m eval ablation``: what each stage of cross-lingual matching is worth.

The same engine is asked with the lexicon off, in BM25 only, in the sentence
coverage score only, and in both (the default), on XQuAD vi→vi, en→vi and en→en
and on the gold questions, one part at a time (``--split test`` to report,
``dev`` to tune). Writes ``ablation.json`` and ``ablation.md``.
"""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from index import Config, prepare

from . import xquad
from .gold import GROUPS, load_gold
from .report import fmt, table
from .run import answer_all
from .scoring import summarise

VARIANTS = {
    "no lexicon": {"lexicon_keyword": False, "lexicon_coverage": False},
    "lexicon in BM25 only": {"lexicon_keyword": True, "lexicon_coverage": False},
    "lexicon in coverage only": {"lexicon_keyword": False, "lexicon_coverage": True},
    "both (default)": {"lexicon_keyword": True, "lexicon_coverage": True},
}
DIRECTIONS = (("vi", "vi"), ("vi", "en"), ("en", "en"))  # (corpus, question language)


def cmd_ablation(args) -> int:
    base = xquad.overrides(args.set)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "command": "python -m eval " + " ".join(sys.argv[1:]), "split": args.split,
                    "settings": {k: str(v) for k, v in base.items()}, "xquad": {}, "gold": {}}
    for context, question_lang in DIRECTIONS:
        engine, _, questions = xquad.engine_for(context, args.data, question_lang, Path(args.index_root), base,
                                                args.quiet)
        questions = [q for q in questions if q["split"] == args.split]
        for name, changes in VARIANTS.items():
            variant = replace(engine, config=engine.config.with_(**changes))
            tag = f"ablation-{context}-{question_lang}-" + "-".join(name.replace("(", "").replace(")", "").split())
            metrics = xquad.run(variant, questions, tag, out, args.quiet)[args.split]
            result["xquad"].setdefault(f"{question_lang}→{context}", {})[name] = metrics
    gold = load_gold(args.questions, args.split)
    engine = prepare(Config.from_env().with_(**base), progress=not args.quiet)
    for name, changes in VARIANTS.items():
        variant = replace(engine, config=engine.config.with_(**changes))
        _, rows = answer_all(variant, gold, ["ours"], progress=not args.quiet)
        result["gold"][name] = summarise(rows, ["ours"], with_retrieval=False)["ours"]
    (out / "ablation.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    md = markdown(result)
    (out / "ablation.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


def markdown(r: dict) -> str:
    xq_rows = []
    for direction, variants in r["xquad"].items():
        for name, m in variants.items():
            ret = m["retrieval"] or {}
            xq_rows.append([direction, name, m["n_questions"], fmt(ret.get("recall@1"), True),
                            fmt(m["quote_contains_answer"], True), fmt(m["abstention_rate"], True),
                            fmt(m["no_abstention"]["quote_contains_answer"], True)])
    gold_rows = []
    for name, groups in r["gold"].items():
        gold_rows.append([name] + [fmt(groups[g]["hit_rate"], True) for g in GROUPS]
                         + [fmt(groups["all"]["abstain_recall"], True),
                            fmt(groups["all"]["abstain_false_abstention"], True)])
    return "\n".join([
        f"# Lexicon ablation ({r['split']} part)\n",
        f"`{r['command']}` — {r['date']}; settings {r['settings'] or 'default'}\n",
        "## XQuAD (questions → corpus)\n",
        table(["direction", "variant", "questions", "R@1 %", "quote ∋ answer %", "abstained %",
               "quote ∋ answer, no abstention %"], xq_rows),
        "\n## Gold questions about the five articles\n",
        table(["variant"] + [f"hit % {g}" for g in GROUPS] + ["unanswerable abstained %", "false abstention %"],
              gold_rows), ""])
