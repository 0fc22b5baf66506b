"""``python -m eval suite``: its columns on hand-made answers, a tiny corpus set end to end with the fake
embedder, the NTREX story-level scoring, the held-out SQuAD selection and the command line."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from eval import cli, suite, suite_squad
from eval.gold import GoldQuestion
from eval.suite import Corpus, Sources, judge, near_miss_variant, ntrex_corpus, run_suite, summarise
from fakes import HashEmbedder


def _q(qid, answers, source, split="dev", lang="vi", question=None):
    return GoldQuestion(id=qid, lang=lang, question=question or f"câu hỏi {qid}?", answers=tuple(answers),
                        source=source, split=split)


def _record(passages, citations, abstained=False):
    return {"abstained": abstained, "passages": [{"source": s, "start": a, "end": b} for s, a, b in passages],
            "citations": [{"source": s, "quote": quote} for s, quote in citations]}


TEXTS = {"a.txt": "Hội thảo diễn ra tại Hà Nội.", "b.txt": "Có mặt 300 đại biểu. Bế mạc chiều nay.",
         "c.txt": "Ký kết năm 2017.", "d.txt": "Giải thưởng trao cho Lan."}


def test_the_columns_on_hand_made_answers():
    cases = [
        # right passage, right first quote: 10 characters
        (_q("q1", ["Hà Nội"], "a.txt"), _record([("a.txt", 0, 28)], [("a.txt", "tại Hà Nội")])),
        # the gold article first but its passage lacks the answer; the answer is the second citation: 20
        (_q("q2", ["300"], "b.txt"),
         _record([("b.txt", 21, 38), ("a.txt", 0, 28)], [("a.txt", "Hội thảo diễn ra tại"), ("b.txt", "Có mặt 300")])),
        # abstained on an answerable question, wrong article first
        (_q("q3", ["2017"], "c.txt"), _record([("a.txt", 0, 28)], [], abstained=True)),
        # right passage, but the quote holding the answer cites another article: 40
        (_q("q4", ["Lan"], "d.txt"), _record([("d.txt", 0, 25)], [("a.txt", "Lan".ljust(40, "."))])),
        # unanswerable, abstained
        (_q("q5", [], None), _record([("a.txt", 0, 28)], [], abstained=True)),
        # unanswerable, answered: 100
        (_q("q6", [], None), _record([("c.txt", 0, 16)], [("c.txt", "x" * 100)])),
    ]
    verdicts = [judge(record, gold, TEXTS) for gold, record in cases]
    assert [(v.get("source@1"), v.get("r@1"), v.get("hit"), v.get("answer@3")) for v in verdicts] == [
        (True, True, True, True), (True, False, False, True), (False, False, False, False),
        (True, True, False, False), (None, None, None, None), (None, None, None, None)]
    m = summarise(verdicts)
    assert (m["n"], m["answerable"], m["unanswerable"]) == (6, 4, 2)
    assert m["source@1"] == 3 / 4 and m["r@1"] == 2 / 4
    assert m["hit"] == 1 / 4 and m["answer@3"] == 2 / 4
    assert m["false_abstention"] == 1 / 4 and m["abstained_unanswerable"] == 1 / 2
    # answered: 10, 20, 40, 100 characters -> median 30; p90 at rank 2.7: 40 + 0.7 * 60
    assert m["quote_chars_p50"] == 30 and m["quote_chars_p90"] == pytest.approx(82)


def test_answer_at_3_reads_only_the_first_three_citations_and_never_an_abstention():
    gold = _q("q", ["300"], "b.txt")
    wrong = ("a.txt", "Hội thảo")
    fourth = judge(_record([("b.txt", 0, 20)], [wrong, wrong, wrong, ("b.txt", "300 đại biểu")]), gold, TEXTS)
    third = judge(_record([("b.txt", 0, 20)], [wrong, wrong, ("b.txt", "300 đại biểu")]), gold, TEXTS)
    withheld = judge(_record([("b.txt", 0, 20)], [("b.txt", "300 đại biểu")], abstained=True), gold, TEXTS)
    assert (fourth["answer@3"], third["answer@3"], withheld["answer@3"]) == (False, True, False)
    assert (fourth["hit"], third["hit"], withheld["hit"]) == (False, False, False)
    assert withheld["quote_chars"] is None  # only answered questions have a quote length


ARTICLES = {
    "000_hoi-thao.txt": "Hội thảo an ninh mạng CLMV\nHội thảo khai mạc ngày 12/10/2017 tại Hà Nội.\n"
                        "Đại biểu đến từ Campuchia, Lào, Myanmar và Việt Nam.",
    "001_lua-gao.txt": "Xuất khẩu lúa gạo tăng mạnh\nNăm 2023 Việt Nam xuất khẩu 8,1 triệu tấn gạo.\n"
                       "Philippines là thị trường mua nhiều gạo nhất.",
    "002_bong-da.txt": "Đội tuyển bóng đá vô địch\nĐội tuyển giành cúp vàng tại sân Mỹ Đình.\n"
                       "Huấn luyện viên Park Hang-seo dẫn dắt đội bóng.",
    "003_thoi-tiet.txt": "Bão số 3 đổ bộ\nBão Yagi đổ bộ vào Quảng Ninh với sức gió cấp 12.\n"
                         "Hơn 200 nghìn ngôi nhà bị tốc mái.",
}
QUESTIONS = [
    _q("t1", ["12/10/2017"], "000_hoi-thao.txt", question="Hội thảo an ninh mạng CLMV khai mạc ngày nào?"),
    _q("t2", ["8,1 triệu tấn"], "001_lua-gao.txt", question="Năm 2023 Việt Nam xuất khẩu bao nhiêu tấn gạo?"),
    _q("t3", ["Philippines"], "001_lua-gao.txt", question="Thị trường nào mua nhiều gạo nhất?"),
    _q("t4", ["Park Hang-seo"], "002_bong-da.txt", question="Huấn luyện viên nào dẫn dắt đội tuyển bóng đá?"),
    _q("t5", ["Quảng Ninh"], "003_thoi-tiet.txt", question="Bão Yagi đổ bộ vào tỉnh nào?"),
    _q("t6", [], None, question="Giá vàng hôm nay là bao nhiêu?"),
    _q("t7", ["Hà Nội"], "000_hoi-thao.txt", split="test", question="Hội thảo CLMV diễn ra ở đâu?"),
]


class NoPassageEncoding(HashEmbedder):
    """The fake model, refusing to encode passages: only a run that re-uses every index can use it."""

    def encode(self, sentences, prompt_name=None, **kw):
        assert prompt_name != "passage", "a cached corpus was encoded again"
        return super().encode(sentences, prompt_name, **kw)


def test_the_suite_on_a_tiny_corpus_set_then_again_from_the_cache(tmp_path):
    tiny = Corpus(name="tiny", about="four articles", key="tiny", files=ARTICLES, questions=QUESTIONS)
    cache, out = tmp_path / "cache", tmp_path / "out"
    corpora = [tiny, near_miss_variant(tiny, cache)]
    # Answer lines in order: (hoi-thao 1: t1, t7) (lua-gao 1: t2) (lua-gao 2: t3) (bong-da 2: t4)
    # (thoi-tiet 1: t5); every 4th from the first is removed.
    assert [q.id for q in corpora[1].questions] == ["t1", "t7", "t5"]
    assert all(q.source is None and not q.answers for q in corpora[1].questions)
    first = run_suite(corpora, split="dev", cache=cache, out=out, model=HashEmbedder(), progress=False)

    m = first["corpora"]["tiny"]
    assert m["questions"] == 6 and m["of_split"] == 6  # t7 is in the test split
    assert m["gold_missing_from_index"] == []
    for system, s in m["systems"].items():
        assert (s["n"], s["answerable"], s["unanswerable"]) == (6, 5, 1), system
    naive = m["systems"]["naive"]
    assert naive["false_abstention"] == 0 and naive["abstained_unanswerable"] == 0  # it never abstains
    # Distinct words in every article: keyword retrieval puts the gold article first.
    assert m["systems"]["bm25"]["source@1"] == 1.0
    near = first["corpora"]["tiny-nearmiss"]
    assert near["questions"] == 2 and near["systems"]["ours"]["answerable"] == 0
    assert near["systems"]["naive"]["abstained_unanswerable"] == 0

    rows = [json.loads(line) for line in (out / "tiny" / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 6 * 4 and {r["system"] for r in rows} == {"ours", "bm25", "dense", "naive"}
    for name in ("ours", "naive"):
        assert summarise([r["suite"] for r in rows if r["system"] == name]) == m["systems"][name]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["corpora"]["tiny"]["systems"] == m["systems"] and summary["meta"]["split"] == "dev"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| tiny | naive | 6 (5/1) |" in report and "| tiny-nearmiss | ours | 2 (0/2) |" in report
    # The calibration of τ reads ``ours`` at τ = 0 for every question, and agrees with the table at the τ applied.
    ours = [r for r in rows if r["system"] == "ours"]
    assert all({"free_abstained", "free_hit"} <= set(r["suite"]) for r in ours)
    assert all(r["suite"]["free_abstained"] <= r["suite"]["abstained"] for r in ours)  # τ = 0 quotes more
    cal = summary["calibration"]
    assert set(cal["corpora"]) == {"tiny", "tiny-nearmiss"} and "## Calibration of τ (ours)" in report
    applied = cal["corpora"]["tiny"]["at"][str(cal["tau"])]
    assert applied["false_abstention"] == pytest.approx(m["systems"]["ours"]["false_abstention"])
    assert applied["hit"] == pytest.approx(m["systems"]["ours"]["hit"])

    again = run_suite(corpora, split="dev", cache=cache, out=tmp_path / "again", model=NoPassageEncoding(),
                      progress=False)
    for name in ("tiny", "tiny-nearmiss"):
        assert again["corpora"][name]["systems"] == first["corpora"][name]["systems"]


def test_xquad_corpora_name_the_question_language_then_the_paragraphs(tmp_path):
    def squad(context, question, answer):
        return {"data": [{"title": "T", "paragraphs": [{"context": context, "qas": [
            {"id": "x1", "question": question, "answers": [{"text": answer, "answer_start": 0}]}]}]}]}

    (tmp_path / "xquad.vi.json").write_text(json.dumps(squad("Hà Nội là thủ đô.", "Thủ đô là gì?", "Hà Nội")))
    (tmp_path / "xquad.en.json").write_text(json.dumps(squad("Hanoi is the capital.", "What is the capital?",
                                                             "Hanoi")))
    made = suite.make_corpora(["xquad-vivi", "xquad-envi", "xquad-enen"], Sources(xquad=tmp_path), tmp_path)
    assert [(c.files["00_0.txt"], c.questions[0].question, c.questions[0].answers, c.questions[0].lang)
            for c in made] == [("Hà Nội là thủ đô.\n", "Thủ đô là gì?", ("Hà Nội",), "vi"),
                               ("Hà Nội là thủ đô.\n", "What is the capital?", ("Hà Nội",), "en"),
                               ("Hanoi is the capital.\n", "What is the capital?", ("Hanoi",), "en")]
    assert made[0].key == made[1].key != made[2].key  # one index for both question languages
    assert all(c.questions[0].source == "00_0.txt" and c.questions[0].split == "dev" for c in made)


def _ntrex_sample(folder: Path, eng: list[str], vie: list[str], ids: list[str]) -> Sources:
    folder.mkdir()
    for name, lines in (("eng", eng), ("vie", vie)):
        (folder / f"ntrex128.{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "ntrex128.document_ids.tsv").write_text("\n".join(ids) + "\n", encoding="utf-8")
    return Sources(ntrex=folder)


ENG = ["Storm hits Hanoi", "Winds reached 120 km/h.", "Rice exports rise", "Vietnam sold 8 million tonnes.",
       "Final ends 2-1", "Fans celebrated in Hanoi.", "Police closed the roads."]
VIE = ["Bão đổ bộ Hà Nội", "Gió đạt 120 km/h.", "Xuất khẩu gạo tăng", "Việt Nam bán 8 triệu tấn.",
       "Chung kết kết thúc 2-1", "Người hâm mộ ăn mừng ở Hà Nội.", "Cảnh sát đóng các tuyến đường."]
IDS = ["bbc.1", "bbc.1", "reuters.7", "reuters.7", "cnn.3", "cnn.3", "cnn.3"]


def test_ntrex_stories_are_the_articles_and_english_sentences_find_them(tmp_path):
    corpus = ntrex_corpus(_ntrex_sample(tmp_path / "ntrex", ENG, VIE, IDS))
    assert corpus.retrieval_only
    assert corpus.files == {"bbc.1.txt": "Bão đổ bộ Hà Nội\nGió đạt 120 km/h.\n",
                            "reuters.7.txt": "Xuất khẩu gạo tăng\nViệt Nam bán 8 triệu tấn.\n",
                            "cnn.3.txt": "Chung kết kết thúc 2-1\nNgười hâm mộ ăn mừng ở Hà Nội.\n"
                                         "Cảnh sát đóng các tuyến đường.\n"}
    assert [(q.question, q.source, q.answers) for q in corpus.questions] == \
        [(e, f"{s}.txt", ()) for e, s in zip(ENG, IDS)]
    split = {q.source: q.split for q in corpus.questions}
    assert all(q.split == split[q.source] for q in corpus.questions)  # a story is in one half
    assert sorted(split.values()) == ["dev", "test", "test"]  # 3 stories: 1 dev, 2 test
    assert ntrex_corpus(_ntrex_sample(tmp_path / "again", ENG, VIE, IDS)).questions == corpus.questions  # seeded

    # Story level: the first passage's story decides; a later passage of the right story does not count.
    gold = corpus.questions[5]  # "Fans celebrated in Hanoi." in cnn.3
    right = judge({"passages": [{"source": "cnn.3.txt", "chunk_id": "c"}, {"source": "bbc.1.txt"}]}, gold, {})
    wrong = judge({"passages": [{"source": "bbc.1.txt", "chunk_id": "b"}, {"source": "cnn.3.txt"}]}, gold, {})
    assert right == {"kind": "retrieval", "source@1": True, "r@1": True}
    assert wrong == {"kind": "retrieval", "source@1": False, "r@1": False}
    m = summarise([right, wrong, right, right])
    assert m["source@1"] == m["r@1"] == 0.75
    assert m["hit"] is m["false_abstention"] is m["quote_chars_p50"] is None  # no answer is asked for


def test_ntrex_runs_retrieval_only(tmp_path):
    corpus = ntrex_corpus(_ntrex_sample(tmp_path / "ntrex", ENG, VIE, IDS))
    summary = run_suite([corpus], split="test", cache=tmp_path / "cache", out=tmp_path / "out",
                        model=HashEmbedder(), progress=False)
    m = summary["corpora"]["ntrex"]
    assert m["questions"] == sum(q.split == "test" for q in corpus.questions)
    rows = [json.loads(line) for line in (tmp_path / "out" / "ntrex" / "results.jsonl").read_text().splitlines()]
    for name, s in m["systems"].items():
        mine = [r for r in rows if r["system"] == name]
        assert s["source@1"] == sum(r["passages"][0]["source"] == f"{IDS[ENG.index(r['question'])]}.txt"
                                    for r in mine) / len(mine)
        assert s["hit"] is None and s["answer@3"] is None and s["quote_chars_p90"] is None
    assert f"| ntrex | ours | {m['questions']} | " in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_misaligned_ntrex_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match="story ids"):
        ntrex_corpus(_ntrex_sample(tmp_path / "ntrex", ENG, VIE[:-1], IDS))


def _gz_lines(path: Path, rows: list[dict]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


def test_squad_beat_holds_out_every_paragraph_of_the_training_file(tmp_path):
    # (title, paragraphs, of which in the training file): shares 2/4, 0/3, 2/2, 1/4
    articles = [("Alpha", 4, 2), ("Beta", 3, 0), ("Gamma", 2, 2), ("Delta", 4, 1)]
    squad, training = [], []
    for a, (title, n, seen) in enumerate(articles):
        for p in range(n):
            context = f"{title} paragraph {p} tells fact {a}{p}."
            for i in range(2):
                squad.append({"id": f"{a}_{p}_{i}", "title": title, "context": context,
                              "question": f"Which fact is in {title} {p} ({i})?",
                              "answers": [{"text": f"fact {a}{p}", "answer_start": context.index("fact")}]})
            if p < seen:
                training.append({"split": "train" if a % 2 else "heldout", "article": a, "title": title,
                                 "context": context, "qas": [["q", 0]]})
    squad_file = _gz_lines(tmp_path / "squad.jsonl.gz", squad)
    training_file = _gz_lines(tmp_path / "training.jsonl.gz", training)
    paragraphs, questions = suite_squad.read_squad(squad_file)
    seen = suite_squad.training_contexts(training_file)
    chosen = suite_squad.select(paragraphs, questions, seen, target_paragraphs=8, n_questions=100, seed=5)

    # Fewest-share first until 8 paragraphs: Beta (3), Delta (7), Alpha (11); Gamma, all seen, is left out.
    assert [a["title"] for a in chosen["articles"]] == ["Alpha", "Beta", "Delta"]
    assert chosen["paragraphs"] == 11
    by_id = {row["id"]: row for row in squad}
    asked = [by_id[i] for i in chosen["question_ids"]]
    assert not {row["context"] for row in asked} & seen
    assert len({row["context"] for row in asked}) == len(asked) == 2 + 3 + 3  # one per unseen paragraph
    split = {a["title"]: a["split"] for a in chosen["articles"]}
    assert set(split.values()) == {"dev", "test"}

    selection = tmp_path / "suite-squad.json"
    assert suite_squad.main(["--squad", str(squad_file), "--training", str(training_file),
                             "--out", str(selection)]) == 0
    written = json.loads(selection.read_text(encoding="utf-8"))
    assert written["seed"] == suite_squad.SEED and "rule" in written
    corpus = suite.squad_beat_corpus(Sources(squad=squad_file, squad_selection=selection))
    chosen_titles = {a["title"] for a in written["articles"]}
    assert len(corpus.files) == sum(n for title, n, _ in articles if title in chosen_titles)
    assert not {corpus.files[q.source].strip() for q in corpus.questions} & seen
    assert {q.id for q in corpus.questions} == set(written["question_ids"])
    title_of = {f"{a['article']:03d}": a for a in written["articles"]}
    assert all(q.split == title_of[q.source[:3]]["split"] for q in corpus.questions)


def test_the_committed_squad_selection_is_held_out():
    if not suite_squad.SQUAD.exists():
        pytest.skip(f"{suite_squad.SQUAD} is not on this machine")
    written = json.loads(suite_squad.SELECTION.read_text(encoding="utf-8"))
    paragraphs, questions = suite_squad.read_squad(suite_squad.SQUAD)
    seen = suite_squad.training_contexts(suite_squad.TRAINING)
    ids = set(written["question_ids"])
    asked = {key for key, rows in questions.items() for row in rows if row["id"] in ids}
    assert written["seed"] == suite_squad.SEED and len(ids) == len(asked) == written["questions"] == 400
    assert not {paragraphs[key]["context"] for key in asked} & seen
    chosen = {a["article"] for a in written["articles"]}
    assert {a for a, _ in asked} <= chosen
    assert written["paragraphs"] == sum(1 for a, _ in paragraphs if a in chosen)


def test_the_command_line(monkeypatch, tmp_path):
    args = cli.parser().parse_args(["suite"])
    assert (args.corpora, args.split, args.limit, args.quiet) == (list(suite.CORPORA), "dev", None, False)
    assert (args.out, args.cache) == (suite.OUT, suite.CACHE)
    args = cli.parser().parse_args(["suite", "--corpora", "ntrex, articles,ntrex", "--split", "test", "--limit", "5",
                                    "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c"), "-q"])
    assert (args.corpora, args.split, args.limit, args.quiet) == (["ntrex", "articles"], "test", 5, True)
    for bad in (["--corpora", "xquad-vivi,nope"], ["--corpora", ","], ["--limit", "0"], ["--split", "all"]):
        with pytest.raises(SystemExit) as exc:
            cli.parser().parse_args(["suite", *bad])
        assert exc.value.code == 2

    seen = {}
    monkeypatch.setattr(suite, "make_corpora", lambda names, sources, cache: [
        Corpus(name=n, about="", key=n, questions=[]) for n in names])
    monkeypatch.setattr(suite, "run_suite", lambda corpora, **kw: seen.update(kw, names=[c.name for c in corpora])
                        or {"meta": {}, "corpora": {}})
    assert cli.main(["suite", "--corpora", "articles", "--split", "test", "--limit", "3",
                     "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c"), "-q"]) == 0
    assert seen["names"] == ["articles"] and (seen["split"], seen["limit"], seen["progress"]) == ("test", 3, False)
    assert (seen["out"], seen["cache"]) == (tmp_path / "o", tmp_path / "c")


def test_a_missing_data_file_is_a_message_not_a_traceback(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(suite, "Sources", lambda: Sources(ntrex=tmp_path / "nowhere"))
    assert cli.main(["suite", "--corpora", "ntrex", "--cache", str(tmp_path / "c"), "-q"]) == 2
    assert "error:" in capsys.readouterr().err
