"""The near-miss set: answer paragraphs removed from a copy of the corpus, the rest kept."""
from eval.gold import GoldQuestion
from eval.near_miss import near_miss_corpus


def _q(i, answers, source="a.txt"):
    return GoldQuestion(id=f"q{i}", lang="vi", question=f"câu hỏi {i}?", answers=tuple(answers), source=source)


def test_every_other_answer_paragraph_is_removed_and_its_questions_asked(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Tiêu đề\nHội thảo ngày 12/10/2017.\nKhai mạc tại Hà Nội.\nBế mạc.", encoding="utf-8")
    (corpus / "b.txt").write_text("Chỉ một đoạn: 300 đại biểu.", encoding="utf-8")
    questions = [_q(1, ["12/10/2017"]), _q(2, ["Hà Nội"]), _q(3, ["12/10/2017", "12-10-2017"]),
                 _q(4, ["300 đại biểu"], "b.txt"), _q(5, [], None)]
    misses, removed = near_miss_corpus(corpus, questions, 2, tmp_path / "out")
    # Answer paragraphs in order: (a, 1) q1 q3, (a, 2) q2, (b, 0) q4; every 2nd from the first is removed.
    assert removed == 2 and {q.id for q in misses} == {"q1", "q3", "q4"}
    assert (tmp_path / "out" / "a.txt").read_text(encoding="utf-8") == "Tiêu đề\n\nKhai mạc tại Hà Nội.\nBế mạc."
    assert not (tmp_path / "out" / "b.txt").exists()  # nothing left of it
    assert (corpus / "b.txt").exists()  # the original corpus is untouched


def test_a_question_whose_answer_is_still_elsewhere_is_not_a_miss(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Ký ngày 5/3.\nKhác.", encoding="utf-8")
    (corpus / "b.txt").write_text("Cũng ký ngày 5/3.", encoding="utf-8")
    misses, removed = near_miss_corpus(corpus, [_q(1, ["5/3"])], 1, tmp_path / "out")
    assert removed == 1 and misses == []
