"""Date and source filters: applied before ranking, through the Python API, the CLI, ``/ask`` and the chat.

A small export of three dated articles with addresses (two about the same company, one
without a date) is indexed with the fake embedder. The filters must restrict what
retrieval searches: with one passage kept (``k=1``), the unfiltered best passage is from
article A, and a filter selecting article B must still return B's passage and quote B.
Hiding A after ranking would leave nothing.
"""
from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest
from gradio_client import Client

import app
from app_fixtures import serve
from checks import assert_verbatim
from index import Config, LiveEngine, answer, build, cli, load
from index.query import KeywordQuery
from index.types import BadFilter, Filter

QUESTION = "Công ty Zebrafin có bao nhiêu nhân viên tại Đà Nẵng?"
A, B, UNDATED = "tin.jsonl#a", "tin.jsonl#b", "tin.jsonl#c"
RECORDS = [
    {"id": "a", "title": "Zebrafin mở rộng tại Đà Nẵng", "date": "2023-05-01",
     "url": "https://www.alpha.example.vn/zebrafin-da-nang",
     "text": "Ngày 1/5/2023, công ty Zebrafin cho biết Zebrafin có 345 nhân viên tại Đà Nẵng.\n\n"
             "Zebrafin là công ty phần mềm của Đà Nẵng."},
    {"id": "b", "title": "Zebrafin năm 2021", "date": "2021-03-01", "url": "https://tin.beta.example.com/zebrafin-2021",
     "text": "Ngày 1/3/2021, công ty Zebrafin có 120 nhân viên tại Đà Nẵng.\n\n"
             "Công ty dự kiến tuyển thêm kỹ sư trong năm."},
    {"id": "c", "title": "Zebrafin không rõ ngày", "url": "https://www.alpha.example.vn/zebrafin-khong-ro-ngay",
     "text": "Công ty Zebrafin có nhân viên làm việc tại Đà Nẵng và Huế.\n\nBài viết này không ghi ngày đăng."},
]


@pytest.fixture(scope="module")
def news(tmp_path_factory, fake_model):
    """The three articles indexed with the fake embedder, one passage kept per question (k=1)."""
    tmp = tmp_path_factory.mktemp("filters")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "tin.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS),
                                      encoding="utf-8")
    config = Config.from_env(corpus_dir=corpus, index_dir=tmp / "index", scorer="hand", k=1,
                             feedback_log=tmp / "feedback.jsonl")
    build(config, progress=False, log=lambda msg: None, model=fake_model)
    return load(config, model=fake_model)


def sources_of(ans: dict) -> set[str]:
    return {p["source"] for p in ans["passages"]} | {c["source"] for c in ans["citations"]}


def test_the_filter_applies_before_ranking(news):
    unfiltered = answer(news, QUESTION).to_dict()
    assert [p["source"] for p in unfiltered["passages"]] == [A]  # the best passage overall
    assert unfiltered["citations"][0]["source"] == A and "345" in unfiltered["answer"]

    for selection in ({"sources": B}, {"sources": ["beta.example.com"]}, {"until": "2022-12-31"}):
        ans = answer(news, QUESTION, **selection).to_dict()
        assert [p["source"] for p in ans["passages"]] == [B], selection  # k=1: B's passage, not none
        assert not ans["abstained"] and ans["citations"][0]["source"] == B, selection
        assert "120 nhân viên" in ans["answer"] and "345" not in ans["answer"]
        assert_verbatim(news.generation.articles, ans)


def test_the_retriever_searches_only_the_selection(news):
    retriever = news.retriever
    query, vector = KeywordQuery.plain(QUESTION), news.embed_query(QUESTION)
    only_b = retriever.select(Filter(sources=(B,)))
    assert only_b.articles == 1 and only_b.chunks.sum() == len(news.generation.chunks.rows_of(B))
    assert [h.chunk.source for h in retriever.passages(query, vector, news.config)] == [A]
    hits = retriever.passages(query, vector, news.config.with_(k=10), selection=only_b)
    assert hits and {h.chunk.source for h in hits} == {B}
    dense, keyword = retriever.sentences(query, vector, 10)
    assert {news.generation.sentences[r].source for r in dense + keyword} > {B}
    dense, keyword = retriever.sentences(query, vector, 10, only_b)
    assert dense and keyword
    assert {news.generation.sentences[r].source for r in dense + keyword} == {B}


def test_an_approximate_index_searches_only_the_selection(news, tmp_path, fake_model):
    """Above QA_EXACT_SEARCH_MAX passages the IVF index is told which rows it may return."""
    config = news.config.with_(index_dir=tmp_path / "ivf", exact_search_max=0)
    build(config, progress=False, log=lambda msg: None, model=fake_model)
    ivf = load(config, model=fake_model)
    assert ivf.generation.chunk_index is not None  # not the exact search
    ans = answer(ivf, QUESTION, sources="beta.example.com").to_dict()
    assert [p["source"] for p in ans["passages"]] == [B] and ans["citations"][0]["source"] == B
    assert answer(ivf, QUESTION).to_dict()["passages"][0]["source"] == A


def test_sources_by_id_file_domain_or_address(news):
    def selected(*sources):
        return {a for a in (A, B, UNDATED) if news.retriever.select(Filter.of(sources=list(sources))).chunks[
            news.generation.chunks.rows_of(a)].all()}

    assert selected(B) == {B}
    assert selected("tin.jsonl") == {A, B, UNDATED}  # an export's file name: all its records
    assert selected("alpha.example.vn") == {A, UNDATED}
    assert selected("https://www.alpha.example.vn/elsewhere") == {A, UNDATED}  # an address reads as its domain
    assert selected("example.com") == {B}  # tin.beta.example.com is under it
    assert selected("ta.example.com") == set()  # a suffix of a name is not a domain
    assert selected(A, "beta.example.com") == {A, B}


def test_dates_are_inclusive_and_leave_out_articles_without_one(news):
    def passages(**dates):
        return sources_of(answer(news, QUESTION, config=news.config.with_(k=5), **dates).to_dict())

    assert passages() == {A, B, UNDATED}
    assert passages(since="2021-03-01") == {A, B}  # the undated article is outside every range
    assert passages(since="2021-03-02") == {A}
    assert passages(until="2021-03-01") == {B}
    assert passages(since="2021-03-01", until="2021-03-01") == {B}
    assert passages(since="2000-01-01", sources=UNDATED) == set()
    assert passages(sources=UNDATED) == {UNDATED}


def test_the_answer_json_names_its_filter(news):
    ans = answer(news, QUESTION, since="2021-01-01", sources=["beta.example.com"]).to_dict()
    assert ans["filter"] == {"since": "2021-01-01", "until": None, "sources": ["beta.example.com"]}
    assert "filter" not in answer(news, QUESTION).to_dict()


def test_empty_selection_says_so_in_the_question_language(news):
    vi = answer(news, QUESTION, since="2030-01-01").to_dict()
    assert vi["error"] == "empty_selection" and vi["abstained"] and vi["citations"] == vi["passages"] == []
    assert vi["message"] == "Không có bài viết nào khớp với bộ lọc (từ 2030-01-01)."
    en = answer(news, "How many employees does Zebrafin have?", sources=["nowhere.example.org"]).to_dict()
    assert en["error"] == "empty_selection"
    assert en["message"] == "No article matches the filter (sources: nowhere.example.org)."


@pytest.mark.parametrize("filters, detail", [
    ({"since": "2024-13-01"}, 'since="2024-13-01"'),
    ({"until": "2024/01/01"}, 'until="2024/01/01"'),
    ({"since": "01-02-2024"}, 'since="01-02-2024"'),
    ({"since": "2024-05-01", "until": "2024-01-01"}, 'since="2024-05-01" > until="2024-01-01"'),
    ({"since": 20240101}, "since=20240101"),
    ({"sources": [3]}, "source=3"),
    ({"sources": {"id": "x"}}, 'source={"id": "x"}'),
])
def test_bad_filters_get_a_message_never_a_traceback(news, filters, detail):
    ans = answer(news, QUESTION, **filters).to_dict()
    assert ans["error"] == "bad_filter" and ans["abstained"] and ans["citations"] == []
    assert ans["message"] == (f"Bộ lọc không hợp lệ: {detail}. Ngày viết dạng YYYY-MM-DD; "
                              "nguồn là mã bài viết hoặc tên miền.")
    en = answer(news, "How many employees does Zebrafin have?", **filters).to_dict()
    assert en["message"].startswith(f"The filter is invalid: {detail}.")


def test_filter_values_are_read_loosely_but_checked():
    import datetime

    f = Filter.of(datetime.date(2024, 1, 2), " ", [" vnexpress.net ", "", "vnexpress.net"])
    assert f == Filter(since="2024-01-02", until=None, sources=("vnexpress.net",))
    assert not Filter.of("", None, []).active
    with pytest.raises(BadFilter):
        Filter(sources=("x",) * 1001)


def test_a_follow_up_keeps_its_filter(news):
    first = answer(news, QUESTION, sources=B).to_dict()
    follow = answer(news, "Còn năm 2023 thì sao?", history=[first], sources=B).to_dict()
    assert sources_of(follow) <= {B} and follow["filter"]["sources"] == [B]


# --------------------------------------------------------------------------- the CLI
@pytest.fixture
def run_cli(news, monkeypatch, capsys):
    """``python -m index ...`` in this process, the index loaded as the fake engine; (exit code, stdout)."""
    monkeypatch.setattr("index.engine.load", lambda config: news)

    def run(*args, stdin: str = ""):
        monkeypatch.setattr("sys.stdin", SimpleNamespace(buffer=io.BytesIO(stdin.encode())))
        code = cli.main(["ask", *args])
        return code, capsys.readouterr()

    return run


def test_cli_flags(run_cli):
    code, out = run_cli("--json", "--source", "beta.example.com", "--source", A, "--until", "2022-12-31", QUESTION)
    ans = json.loads(out.out)
    assert code == 0 and ans["filter"] == {"since": None, "until": "2022-12-31", "sources": ["beta.example.com", A]}
    assert ans["citations"][0]["source"] == B and [p["source"] for p in ans["passages"]] == [B]
    code, out = run_cli("--source", "beta.example.com", QUESTION)
    assert code == 0 and "120 nhân viên" in out.out and out.out.rstrip().endswith("(nguồn: beta.example.com)")
    code, out = run_cli("--since", "2030-01-01", QUESTION)
    assert code == 2 and "Không có bài viết nào khớp với bộ lọc" in out.err and "Traceback" not in out.err
    code, out = run_cli("--json", "--since", "2024-02-30", QUESTION)
    assert code == 2 and json.loads(out.out)["error"] == "bad_filter"


def test_cli_json_lines_filters(run_cli):
    lines = [json.dumps({"id": "plain", "question": QUESTION}),
             json.dumps({"id": "one", "question": QUESTION, "source": B}),
             json.dumps({"id": "list", "question": QUESTION, "source": ["beta.example.com"], "since": "2021-01-01"}),
             json.dumps({"id": "dates", "question": QUESTION, "until": "2021-12-31", "source": []}),
             json.dumps({"id": "with the flag", "question": QUESTION, "until": "2021-12-31"}),
             json.dumps({"id": "bad", "question": QUESTION, "until": "soon"})]
    code, out = run_cli("--source", A, stdin="\n".join(lines))
    rows = {r["id"]: r for r in map(json.loads, out.out.splitlines())}
    assert code == 2  # two lines could not be answered
    assert rows["plain"]["citations"][0]["source"] == A and rows["plain"]["filter"]["sources"] == [A]  # the flag
    for key in ("one", "list", "dates"):  # a line's "source" replaces the flag's
        assert rows[key]["citations"][0]["source"] == B and sources_of(rows[key]) == {B}, key
    assert rows["list"]["filter"] == {"since": "2021-01-01", "until": None, "sources": ["beta.example.com"]}
    # Its "until" joins the flag's source: A, published in 2023, is not before 2022.
    assert rows["with the flag"]["error"] == "empty_selection"
    assert rows["with the flag"]["filter"] == {"since": None, "until": "2021-12-31", "sources": [A]}
    assert rows["bad"]["error"] == "bad_filter"


# --------------------------------------------------------------------------- /ask and the chat
def test_ask_endpoint_takes_filters(news):
    with serve(news, news.config) as url:
        client = Client(url, verbose=False)
        ans = client.predict({"question": QUESTION, "source": "beta.example.com"}, api_name="/ask")
        both = client.predict({"question": QUESTION, "since": "2021-01-01", "until": "2021-12-31",
                               "source": [B, A]}, api_name="/ask")
        empty = client.predict({"question": QUESTION, "since": "2030-01-01"}, api_name="/ask")
        bad = client.predict({"question": QUESTION, "until": "31/12/2021"}, api_name="/ask")
        plain = client.predict(QUESTION, api_name="/ask")
    assert ans["citations"][0]["source"] == B and sources_of(ans) == {B}
    assert both["citations"][0]["source"] == B and both["filter"]["sources"] == [B, A]
    assert empty["error"] == "empty_selection" and bad["error"] == "bad_filter"
    assert plain["citations"][0]["source"] == A and "filter" not in plain


def test_chat_applies_the_session_filter_to_the_next_questions(news):
    chat = app.Chat(LiveEngine(news), news.config)
    mine, other = SimpleNamespace(session_hash="mine"), SimpleNamespace(session_hash="other")
    chat.set_filter("", "2022-12-31", ["beta.example.com"], mine)

    *_, first = chat.respond(QUESTION, [], [], "Auto", mine)
    ans = first[2][0]["answer"]
    assert ans["citations"][0]["source"] == B and ans["filter"]["until"] == "2022-12-31"
    reply = first[1][-1]["content"]
    assert '<p class="qa-filter">▿ Đã lọc: đến 2022-12-31, nguồn: beta.example.com</p>' in reply
    *_, unfiltered = chat.respond(QUESTION, [], [], "Auto", other)  # another browser session
    assert unfiltered[2][0]["answer"]["citations"][0]["source"] == A and "qa-filter" not in unfiltered[1][-1]["content"]

    chat.set_filter("2030-01-01", "", [], mine)
    *_, second = chat.respond(QUESTION, first[1], first[2], "English", mine)
    assert second[2][1]["answer"]["error"] == "empty_selection"
    assert second[1][-1]["content"] == ('<div class="qa-answer qa-error" lang="en"><p class="qa-msg">'
                                        "No article matches the filter (since 2030-01-01).</p></div>")
    chat.set_filter("", "", [], mine)  # cleared: every article again
    *_, third = chat.respond(QUESTION, [], [], "Auto", mine)
    assert third[2][0]["answer"]["citations"][0]["source"] == A


def test_chat_offers_the_articles_and_their_domains_as_sources(news):
    chat = app.Chat(LiveEngine(news), news.config)
    values = [value for _, value in chat.sources_update()["choices"]]
    assert values == [A, B, UNDATED, "alpha.example.vn", "tin.beta.example.com"]
