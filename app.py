"""Gradio chat over the indexed articles: verbatim quotes, numbered citations, a source viewer.

This module renders and wires: answers come from ``index.answer``, the engine
(background loading, following rebuilds) from ``index.LiveEngine``, uploaded files
from ``index.ingest.upload`` and their indexing from ``index.build``, the feedback
log from ``index.feedback``, the words and styles from ``app_text.py``.
Every piece of text that comes from the corpus or from the user is HTML-escaped
here, and highlights are built from the exact character offsets of the Answer
JSON (``article.text[start:end]``), never by searching for the text.

    python app.py                       # serves 127.0.0.1:7860 at once; builds/loads the index meanwhile
    HOST=0.0.0.0 PORT=8080 python app.py

Programmatic use (gradio_client)::

    client = Client("http://127.0.0.1:7860/")
    first = client.predict("Ai là Bộ trưởng phụ trách an ninh mạng của Singapore?", api_name="/ask")
    client.predict({"question": "Bà ấy đã phát biểu gì?", "history": [first]}, api_name="/ask")  # a follow-up
    client.predict({"question": "...", "since": "2022-01-01", "source": ["vnexpress.net"]}, api_name="/ask")

Articles uploaded in the chat (``QA_UPLOAD``) go into the corpus folder and are indexed
by an incremental build in the background; the next question sees them.
"""
from __future__ import annotations

import html
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from app_text import (CSS, EXAMPLES, FILTER_LABELS, LANG_CHOICES, LANG_OF_CHOICE, SCROLL_JS, TEXT,  # noqa: E402
                      UPLOAD_LABEL)
from index import Config, Engine, LiveEngine, answer, build, feedback  # noqa: E402
from index.answer import FILTER_MESSAGES, NOT_FOUND, describe_filter, filter_message, found_message  # noqa: E402
from index.ingest import Settings, upload as uploads  # noqa: E402
from index.question import message as question_message  # noqa: E402
from index.types import Filter, domain_of  # noqa: E402

UPLOADS_OFF_MAX_FILE_SIZE = 1024 * 1024  # the web server's upload limit when the chat takes no articles
FILTER_SESSIONS = 4096  # browser sessions whose filter is remembered (the oldest is forgotten first)
MAX_SHOWN_QUESTION = 500  # characters of the question echoed in the chat
RELATED_SHOWN = 3  # passages offered when the engine abstains
LOAD_TIMEOUT_S = 900  # a question asked during start-up waits this long for the index
CORPUS_LIST_MAX = 200  # articles listed in the corpus tab; an archive is summarised by its counts


# --------------------------------------------------------------------------- rendering
def esc(text: object) -> str:
    """Escape any text for HTML; lone surrogates and control characters become U+FFFD."""
    s = str(text)
    s = s.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if _has_surrogate(s) else s
    s = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "\ufffd", s)
    return html.escape(s, quote=True)


def _has_surrogate(s: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in s)


def clean_json(value):
    """Strings safe to serialise: lone surrogates (only possible in a rejected question) replaced."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(value) else value
    if isinstance(value, dict):
        return {k: clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value


def mark_up(text: str, base: int, spans: list[tuple[int, int, str]]) -> str:
    """HTML for ``text`` (which starts at absolute offset ``base``) with ``spans`` wrapped in <mark>.

    Spans are absolute ``(start, end, css_class)``; overlapping spans combine their
    classes. Each piece of text is escaped on its own.
    """
    n = len(text)
    local = [(max(0, s - base), min(n, e - base), c) for s, e, c in spans if e > base and s < base + n]
    points = sorted({0, n, *(p for s, e, _ in local for p in (s, e))})
    out = []
    for a, b in zip(points, points[1:]):
        if a >= b:
            continue
        piece = esc(text[a:b])
        classes = [c for s, e, c in local if s <= a and b <= e]
        out.append(f'<mark class="{" ".join(classes)}">{piece}</mark>' if classes else piece)
    return "".join(out)


def _date(value: str | None, lang: str) -> str:
    return esc(value) if value else TEXT[lang]["no_date"]


def _localized_message(ans: dict, lang: str, articles: dict, limit: int) -> str:
    """The engine's message, re-worded when the user forced another UI language."""
    if lang == ans.get("language") or ans.get("error") == "bad_filter":  # the latter names the bad value
        return ans.get("message", "")
    if ans.get("error") in FILTER_MESSAGES:
        return filter_message(ans["error"], lang, filter=_filter(ans))
    if ans.get("error"):
        return question_message(ans["error"], lang, limit=limit)
    if ans.get("abstained") or not ans.get("citations"):
        return NOT_FOUND[lang]
    quoted = articles.get(ans["citations"][0]["source"])
    return found_message(lang, quoted.language if quoted else "vi")


def _filter(ans: dict) -> Filter | None:
    """The filter an Answer JSON was answered with."""
    f = ans.get("filter")
    return Filter(f.get("since"), f.get("until"), tuple(f.get("sources", ()))) if isinstance(f, dict) else None


def _filter_line(ans: dict, lang: str) -> str:
    """A small line naming the active filter, or nothing."""
    f = _filter(ans)
    if f is None or not f.active:
        return ""
    return f'<p class="qa-filter">▿ {esc(TEXT[lang]["filter_active"])} {esc(describe_filter(f, lang))}</p>'


def render_answer(ans: dict, lang: str, articles: dict, limit: int) -> str:
    """Chat bubble HTML for one Answer JSON."""
    t = TEXT[lang]
    msg = esc(_localized_message(ans, lang, articles, limit))
    if ans.get("error"):
        return f'<div class="qa-answer qa-error" lang="{lang}"><p class="qa-msg">{msg}</p></div>'
    if ans.get("abstained") or not ans.get("citations"):
        parts = [f'<div class="qa-answer qa-abstain" lang="{lang}"><p class="qa-msg">⚠ {msg}</p>',
                 _filter_line(ans, lang)]
        related = related_passages(ans, articles)
        if related:
            parts.append(f'<p class="qa-related-head">{esc(t["related"])}</p>')
            for k, p in enumerate(related, 1):
                art = articles[p["source"]]
                parts.append(
                    f'<div class="qa-related-item" data-source="{esc(p["source"])}">'
                    f'<b>~{k}</b> <i>{esc(art.title)}</i> · {_date(art.date, lang)} · '
                    f'<code>{esc(p["source"])}</code><br>{esc(art.text[p["start"]:p["end"]])}</div>'
                )
            parts.append(f'<p class="qa-hint">{esc(t["open_hint"])}</p>')
        parts.append("</div>")
        return "".join(parts)
    low = ans.get("confidence") == "low"
    parts = [f'<div class="qa-answer{" qa-low" if low else ""}" lang="{lang}">']
    if ans.get("context"):
        earlier = " · ".join(f"“{esc(c['question'][:MAX_SHOWN_QUESTION])}”" for c in ans["context"])
        parts.append(f'<p class="qa-context">↪ {esc(t["following"])} {earlier}</p>')
    parts.append(f'<p class="qa-msg">{"⚠ " if low else ""}{msg}</p>')
    citations = ans["citations"]
    for c in citations:
        if c["n"] == 2:  # the answer is the first; the others are collapsed below it
            parts.append(f'<details class="qa-others"><summary>{esc(t["others"])} ({len(citations) - 1})'
                         f'</summary>')
        spans = []
        if c.get("highlight"):
            spans.append((c["highlight"]["start"], c["highlight"]["end"], "qa-span"))
        quote = mark_up(c["quote"], c["start"], spans)
        parts.append(
            f'<blockquote class="qa-quote" data-n="{c["n"]}">“{quote}” <sup class="qa-ref">[{c["n"]}]</sup>'
            f"</blockquote>"
            f'<div class="qa-cite"><b>[{c["n"]}]</b> {esc(c["title"])} · {_date(c.get("date"), lang)} · '
            f'<code>{esc(c["source"])}</code> · {esc(t["chars"])} {c["start"]}–{c["end"]}'
            # Only http(s) addresses reach the JSON (index/ingest); the fragment highlights the quote there.
            + (f' · <a href="{esc(c["url"])}" target="_blank" rel="noopener noreferrer">'
               f'{esc(t["open_original"])} ↗</a>' if c.get("url") else "")
            + (f' · <span class="qa-prob">{esc(t["confidence"])} {round(100 * c["probability"])} %</span>'
               if c.get("probability") is not None else "")
            + "</div>"
        )
    if len(citations) > 1:
        parts.append("</details>")
    parts.append(_filter_line(ans, lang))
    parts.append(f'<p class="qa-hint">{esc(t["open_hint"])}</p></div>')
    return "".join(parts)


@dataclass
class UploadReport:
    """What one upload did: each file's outcome, and the build's."""

    outcomes: list = field(default_factory=list)  # index.ingest.upload.Outcome, one per file
    generation: str | None = None  # the generation now answering, when the upload changed the index
    error: str | None = None  # why nothing was indexed (the build failed, the index never loaded)
    loaded: bool = True  # False: the new generation is built but the app still serves the old one


def render_upload(report: UploadReport, lang: str) -> str:
    """Chat bubble HTML for an upload's report: each file, added or refused and why."""
    t = TEXT[lang]
    codes = t["upload_codes"]
    added = [o for o in report.outcomes if o.code == "added"]
    if report.error:
        head, cls = t["upload_failed"].format(error=report.error), "qa-answer qa-upload qa-error"
    elif added:
        head, cls = t["upload_done"].format(n=len(added)), "qa-answer qa-upload"
    else:
        head, cls = t["upload_nothing"], "qa-answer qa-upload qa-abstain"
    if added and not report.error and not report.loaded:
        head += " " + t["upload_not_loaded"]
    items = []
    for o in report.outcomes:
        what = codes[o.code].format(detail=o.detail)
        if o.stored:
            titles = "; ".join(f"“{a.title[:80]}”" for a in o.articles[:3])
            what += f" · {t['upload_articles'].format(n=len(o.articles))}" if o.articles else ""
            what += f" {titles}" if titles else ""
            if o.name != o.original:
                what += f" · {t['upload_saved_as']} {o.name}"
        notes = f' <span class="qa-hint">({esc("; ".join(o.notes))})</span>' if o.notes and o.stored else ""
        refused = "" if o.stored else ' class="qa-refused"'
        items.append(f"<li{refused}><code>{esc(o.original)}</code>: {esc(what)}{notes}</li>")
    return (f'<div class="{cls}" lang="{lang}"><p class="qa-msg">⇪ {esc(head)}</p>'
            f'<ul>{"".join(items)}</ul></div>')


def related_passages(ans: dict, articles: dict) -> list[dict]:
    """Closest passages of an abstained answer, one per distinct span, known articles only."""
    seen, out = set(), []
    for p in ans.get("passages", []):
        key = (p["source"], p["start"], p["end"])
        if key in seen or p["source"] not in articles:
            continue
        seen.add(key)
        out.append(p)
        if len(out) == RELATED_SHOWN:
            break
    return out


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-empty line of the article text."""
    out, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def render_source(articles: dict, source: str, spans: list[tuple[int, int, str]], lang: str,
                  expected: str | None = None) -> str:
    """The whole article, its paragraphs escaped, ``spans`` marked at their exact offsets."""
    t = TEXT[lang]
    art = articles.get(source)
    if art is None:
        return f'<div class="qa-viewer-msg">{esc(t["missing"])} <code>{esc(source)}</code></div>'
    start, end = spans[0][0], spans[0][1]
    warn = ""
    if expected is not None and art.text[start:end] != expected:
        warn = f'<p class="qa-error"><b>{esc(t["stale"])}</b></p>'
        spans = []
    legend = " ".join(
        f'<mark class="{c}">{esc(t["answer_span"] if c == "qa-span" else t["quote"] if c == "qa-quote-span" else t["related_short"])}</mark>'
        for c in dict.fromkeys(c for _, _, c in spans)
    )
    head = (
        f'<div class="qa-viewer-head"><h3>{esc(art.title)}</h3>'
        f'{_date(art.date, lang)} · <code>{esc(source)}</code> · {esc(t["chars"])} {start}–{end} '
        f'{esc(t["of"])} {len(art.text)} <span class="qa-legend">{legend}</span></div>{warn}'
    )
    body = []
    for ps, pe in paragraphs(art.text):
        hit = any(s < pe and e > ps for s, e, _ in spans)
        cls = "qa-para qa-hit" if hit else "qa-para"
        body.append(f'<p class="{cls}" data-start="{ps}">{mark_up(art.text[ps:pe], ps, spans)}</p>')
    return f'<div class="qa-viewer">{head}<div class="qa-viewer-body" lang="vi">{"".join(body)}</div></div>'


def corpus_html(engine) -> str:
    gen = engine.generation
    man = gen.manifest
    counts = man.get("counts", {})
    listed = gen.articles.first(CORPUS_LIST_MAX)
    rows = "".join(
        f"<tr><td>{esc(a.title)}</td><td>{esc(a.date or '—')}</td><td><code>{esc(a.source)}</code></td>"
        f"<td>{len(a.text):,}</td></tr>"
        for a in listed
    )
    if len(gen.articles) > len(listed):
        rows += f'<tr><td colspan="4">… {len(gen.articles) - len(listed):,} more</td></tr>'

    return (
        '<div class="qa-corpus"><table><thead><tr><th>Tiêu đề / Title</th><th>Ngày / Date</th>'
        "<th>Tệp / Source</th><th>Ký tự / Characters</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<p><b>Mô hình / Model:</b> <code>{esc(man.get('model_id', '?'))}</code><br>"
        f"<b>Bài viết / Articles:</b> {esc(counts.get('articles', len(gen.articles)))} · "
        f"<b>Đoạn / Chunks:</b> {esc(counts.get('chunks', '?'))} · "
        f"<b>Câu / Sentences:</b> {esc(counts.get('sentences', '?'))}<br>"
        f"<b>Tạo lúc / Built at:</b> {esc(man.get('created_at', '?'))} · "
        f"<b>Thế hệ / Generation:</b> <code>{esc(gen.name)}</code></p></div>"
    )


def source_choices(engine) -> list[tuple[str, str]]:
    """The filter's source choices: the listed articles (by id), then their domains."""
    listed = engine.generation.articles.first(CORPUS_LIST_MAX)
    domains = sorted({d for d in (domain_of(a.url) for a in listed if a.url) if d})
    return ([(f"{a.title[:60]} — {a.source}", a.source) for a in listed]
            + [(f"{d} (tên miền · domain)", d) for d in domains])


# --------------------------------------------------------------------------- app
class Chat:
    """The chat's event handlers over one engine, loaded or loading; ``create_app`` wires them to the UI.

    ``turns`` (a ``gr.State``) holds one ``{"answer": Answer JSON, "lang": ...}``
    per reply; the chatbot's messages alternate question, reply, so message
    ``2i + 1`` is the reply of turn ``i``.
    """

    def __init__(self, live: LiveEngine, config: Config):
        self.live = live
        self.config = config
        self.limit = config.max_question_chars
        # The chat's filter controls, per browser session: set by the step before each question.
        self.filters: OrderedDict[str, dict] = OrderedDict()
        self.filters_lock = threading.Lock()
        # Uploads are stored and built one at a time, in a thread of their own: a build finishes
        # (or is undone) even when the page that started it is closed.
        self.builds = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-build")

    def current_articles(self) -> dict:
        return self.live.engine.generation.articles if self.live.ready else {}

    def answer_with(self, question: str, history: list | None = None, **filters) -> tuple[dict, dict]:
        """(Answer JSON, the articles of the generation that answered); ``history``: earlier turns;
        ``filters``: ``since``, ``until``, ``sources`` as ``answer`` takes them."""
        try:
            eng = self.live.get(timeout=LOAD_TIMEOUT_S)
        except Exception:  # the server log has the cause; the user gets a message, never a traceback
            return unavailable(question), {}
        return clean_json(answer(eng, question, history=history, **filters).to_dict()), eng.generation.articles

    def corpus_view(self) -> str:
        try:
            return corpus_html(self.live.get(LOAD_TIMEOUT_S))
        except Exception:
            return f'<div class="qa-viewer-msg">{esc(TEXT["en"]["load_failed"])}</div>'

    def sources_update(self):
        """The filter's source choices, for the page as it loads."""
        try:
            return gr.update(choices=source_choices(self.live.get(LOAD_TIMEOUT_S)))
        except Exception:  # the corpus panel says why
            return gr.update()

    def ask(self, question: str | dict) -> dict:
        """Answer one question from the articles; returns the Answer JSON (never raises on bad input).

        ``question`` is the question, or an object ``{"question", "history"?, "since"?, "until"?,
        "source"?}``. ``history``, for a follow-up in a conversation, is the earlier turns, oldest
        first: questions, or the Answer JSON objects this endpoint returned for them. The follow-up
        ("What did she say?") then finds the article the conversation is about; ``context`` in
        the reply says which earlier turns shaped it. ``since`` / ``until`` (``YYYY-MM-DD``) and
        ``source`` (article ids or domains, one or a list) answer from those articles only.
        """
        if not isinstance(question, dict):
            return self.answer_with(question)[0]
        return self.answer_with(question.get("question"), question.get("history"), since=question.get("since"),
                                until=question.get("until"), sources=question.get("source"))[0]

    def set_filter(self, since, until, sources, request: gr.Request | None = None) -> None:
        """Remember the filter controls of the session of ``request`` for its next question."""
        if request is None or not getattr(request, "session_hash", None):
            return
        with self.filters_lock:
            self.filters[request.session_hash] = {"since": since, "until": until, "sources": sources}
            self.filters.move_to_end(request.session_hash)
            while len(self.filters) > FILTER_SESSIONS:
                self.filters.popitem(last=False)

    def session_filter(self, request: gr.Request | None) -> dict:
        with self.filters_lock:
            return dict(self.filters.get(getattr(request, "session_hash", None) or "", {}))

    @staticmethod
    def conversation(turns: list[dict]) -> list[dict]:
        """The chat's earlier answers as history: rejected questions, failed loads and uploads are not turns."""
        return [t["answer"] for t in turns if not t["answer"].get("error") and t["answer"].get("question")]

    def upload(self, files, history, turns, lang):
        """Add the uploaded article files to the corpus and the index; the report is a chat message.

        Yields (chat messages, turns, corpus panel, source choices, the file control emptied): first
        a "building" reply, then the report. An upload is a turn without an answer (``"upload"``).
        """
        lang = lang if lang in TEXT else "vi"
        paths = [files] if isinstance(files, (str, os.PathLike)) else [f for f in (files or []) if f]
        history, turns = list(history or []), list(turns or [])
        names = ", ".join(Path(p).name for p in paths)
        history.append({"role": "user", "content": f'<span class="qa-upload-files">⇪ {esc(names)}</span>'})
        turns.append({"answer": {}, "lang": lang, "upload": True})
        if not self.config.upload:
            refusal = (f'<div class="qa-answer qa-error" lang="{lang}">'
                       f'<p class="qa-msg">{esc(TEXT[lang]["upload_off"])}</p></div>')
            yield history + [{"role": "assistant", "content": refusal}], turns, gr.update(), gr.update(), None
            return
        job = self.builds.submit(self.add_files, paths)
        waiting = (f'<div class="qa-answer qa-loading" lang="{lang}">'
                   f'<p class="qa-msg">⏳ {esc(TEXT[lang]["upload_building"])}</p></div>')
        yield history + [{"role": "assistant", "content": waiting}], turns, gr.update(), gr.update(), None
        report = job.result()
        history.append({"role": "assistant", "content": render_upload(report, lang)})
        engine = self.live.engine if self.live.ready else None
        yield (history, turns, corpus_html(engine) if engine else gr.update(),
               gr.update(choices=source_choices(engine)) if engine else gr.update(), None)

    def add_files(self, paths: list) -> UploadReport:
        """Store the files in the corpus folder, rebuild the index, serve the new generation.

        A failed build takes the files out again and the generation in use stays; an uploaded
        file that the build still left out (a duplicate of a file not indexed yet) is taken out too.
        """
        try:
            eng = self.live.wait(LOAD_TIMEOUT_S)
        except Exception as exc:  # the upload waits for the index; it never loaded
            return UploadReport(error=f"{type(exc).__name__}: {exc}")
        config = eng.config
        try:
            outcomes = uploads.store(paths, config.corpus_dir, Settings.from_config(config),
                                     self.config.upload_max_bytes, self.config.upload_max_files,
                                     eng.generation.path / "tables.sqlite")
        except OSError as exc:  # e.g. the corpus folder is not writable: nothing was moved into it
            return UploadReport(error=f"{type(exc).__name__}: {exc}")
        report = UploadReport(outcomes)
        added = [o for o in outcomes if o.code == "added"]
        if not added:
            return report
        try:
            built = build(config, progress=False, log=lambda msg: None, model=eng.model)
        except Exception as exc:  # the live generation is untouched: undo the upload
            uploads.remove([o.name for o in added], config.corpus_dir)
            report.error = f"{type(exc).__name__}: {exc}"
            return report
        serving = self.live.get()
        report.generation = serving.generation.name
        report.loaded = built.generation in (None, serving.generation.name)
        if report.loaded:
            left_out = [o for o in added if not any(a.source in serving.generation.articles for a in o.articles)]
            uploads.remove([o.name for o in left_out], config.corpus_dir)
            for o in left_out:
                reasons = [s.reason for s in built.report.skipped if s.source == o.name]
                o.code, o.detail = "no_article", "; ".join(reasons) or "left out by the build"
        return report

    @staticmethod
    def ui_lang(choice: str | None, detected: str) -> str:
        return LANG_OF_CHOICE.get(choice or "Auto", detected if detected in TEXT else "vi")

    @staticmethod
    def label_updates(lang: str):
        t = TEXT[lang]
        return (
            gr.update(value=t["send"]),
            gr.update(value=t["clear"]),
            gr.update(value=t["helpful"]),
            gr.update(value=t["not_helpful"]),
        )

    def picker_choices(self, turns: list[dict]) -> list[tuple[str, str]]:
        articles = self.current_articles()
        choices = []
        for i, turn in enumerate(turns):
            ans = turn["answer"]
            for c in ans.get("citations", []):
                choices.append((f"#{i + 1} [{c['n']}] {c['title'][:60]} — {c['source']}", f"{i}:c:{c['n'] - 1}"))
            if not ans.get("citations"):
                for k, p in enumerate(related_passages(ans, articles), 1):
                    title = articles[p["source"]].title
                    choices.append((f"#{i + 1} ~{k} {title[:60]} — {p['source']}", f"{i}:p:{k - 1}"))
        return choices

    def first_choice(self, turns: list[dict], i: int) -> str | None:
        for _, value in self.picker_choices(turns):
            if value.startswith(f"{i}:"):
                return value
        return None

    def view(self, value: str | None, turns: list[dict], lang: str) -> str:
        t = TEXT[lang]
        articles = self.current_articles()
        if not value:
            return f'<div class="qa-viewer-msg">{esc(t["viewer_empty"])}</div>'
        try:
            i, kind, k = value.split(":")
            ans = turns[int(i)]["answer"]
            if kind == "c":
                c = ans["citations"][int(k)]
                spans = [(c["start"], c["end"], "qa-quote-span")]
                if c.get("highlight"):
                    spans.append((c["highlight"]["start"], c["highlight"]["end"], "qa-span"))
                return render_source(articles, c["source"], spans, lang, expected=c["quote"])
            p = related_passages(ans, articles)[int(k)]
            return render_source(articles, p["source"], [(p["start"], p["end"], "qa-passage")], lang)
        except (ValueError, IndexError, KeyError, TypeError):
            return f'<div class="qa-viewer-msg">{esc(t["viewer_empty"])}</div>'

    def respond(self, question, history, turns, choice, request: gr.Request | None = None):
        """Answer ``question`` in the chat, with the earlier turns as history and the session's filter."""
        question = question if isinstance(question, str) else ""
        history = list(history or [])
        turns = list(turns or [])
        shown = question if len(question) <= MAX_SHOWN_QUESTION else question[:MAX_SHOWN_QUESTION] + "…"
        history.append({"role": "user", "content": f'<span class="qa-question">{esc(shown)}</span>'})
        if not self.live.ready:
            lang = LANG_OF_CHOICE.get(choice or "Auto", "vi")
            waiting = (f'<div class="qa-answer qa-loading" lang="{lang}">'
                       f'<p class="qa-msg">⏳ {esc(TEXT[lang]["loading"])}</p></div>')
            yield (gr.update(), history + [{"role": "assistant", "content": waiting}], turns, lang,
                   gr.update(), gr.update(), "", *self.label_updates(lang))
        # The engine validates length, control characters, ... and reads the earlier turns as history.
        ans, articles = self.answer_with(question, self.conversation(turns), **self.session_filter(request))
        lang = self.ui_lang(choice, ans.get("language", "vi"))
        history.append({"role": "assistant", "content": render_answer(ans, lang, articles, self.limit)})
        turns.append({"answer": ans, "lang": lang})
        selected = self.first_choice(turns, len(turns) - 1)
        choices = self.picker_choices(turns)
        if selected is None and choices:
            selected = choices[-1][1]
        t = TEXT[lang]
        yield (
            gr.update(value="", label=t["question"], placeholder=t["placeholder"]),
            history,
            turns,
            lang,
            gr.update(choices=choices, value=selected, label=t["picker"]),
            gr.update(value=self.view(selected, turns, lang), label=t["viewer"]),
            "",
            *self.label_updates(lang),
        )

    def on_pick(self, value, turns, lang):
        return self.view(value, turns, lang or "vi")

    def on_select(self, evt: gr.SelectData, turns):
        index = evt.index if isinstance(evt.index, int) else (evt.index or [0])[0]
        value = self.first_choice(turns or [], int(index) // 2)
        return gr.update(value=value) if value else gr.update()

    def rate(self, turns, lang, verdict, index=None):
        t = TEXT[lang or "vi"]
        answered = [turn for turn in turns or [] if not turn.get("upload")]
        if not answered:
            return t["feedback_nothing"]
        turn = answered[-1] if index is None else turns[min(max(index, 0), len(turns) - 1)]
        if turn.get("upload"):  # a vote on an upload's report: there is no answer to rate
            return t["feedback_nothing"]
        try:
            feedback.append(self.config.feedback_log,
                            feedback.make_record(turn["answer"], verdict, self.live.engine.model_id))
        except (OSError, AttributeError):
            return t["feedback_failed"]
        return t["feedback_saved"]

    def on_like(self, evt: gr.LikeData, turns, lang):
        index = evt.index if isinstance(evt.index, int) else (evt.index or [0])[0]
        if evt.liked is None or evt.liked == "":
            return gr.update()
        verdict = "helpful" if evt.liked is True else "not_helpful" if evt.liked is False else str(evt.liked)
        return self.rate(turns, lang, verdict, int(index) // 2)

    def on_lang(self, choice, lang):
        lang = LANG_OF_CHOICE.get(choice, lang or "vi")
        t = TEXT[lang]
        return (lang, gr.update(label=t["question"], placeholder=t["placeholder"]),
                gr.update(label=t["picker"]), gr.update(label=t["viewer"]), *self.label_updates(lang))

    def on_clear(self):
        return [], [], gr.update(choices=[], value=None), self.view(None, [], "vi"), ""


def create_app(engine: Engine | LiveEngine, config: Config | None = None) -> gr.Blocks:
    """The Blocks (queue configured) for an engine, loaded or loading; launch it with ``launch()``.

    With a ``LiveEngine`` still loading, the page is served at once and a
    question waits for the engine behind a visible "loading" reply. The app
    follows the index: a rebuild that switches CURRENT is picked up by the next
    question, without a restart.
    """
    live = engine if isinstance(engine, LiveEngine) else LiveEngine(engine)
    config = config or (live.engine.config if live.engine is not None else Config.from_env())
    limit = config.max_question_chars
    chat = Chat(live, config)
    # Bound once: gradio groups events by the identity of their function, and each attribute access
    # makes a new bound method; the two events of each pair share one concurrency group.
    on_pick, on_clear, set_filter = chat.on_pick, chat.on_clear, chat.set_filter
    t = TEXT["vi"]
    with gr.Blocks(title="Hỏi đáp có trích dẫn · Cited news Q&A", fill_width=True) as demo:
        turns = gr.State([])
        lang_state = gr.State("vi")
        gr.Markdown(
            "## Hỏi đáp có trích dẫn · Cited news Q&A\n"
            "Câu trả lời là **nguyên văn** trích từ 5 bài báo, kèm nguồn. "
            "Answers are **verbatim quotes** from 5 Vietnamese news articles, with their sources."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=380):
                chatbot = gr.Chatbot(
                    elem_id="chat", height=520, render_markdown=False, sanitize_html=True,
                    latex_delimiters=[], feedback_options=("Like", "Dislike"), show_label=False,
                    buttons=["copy"],
                    placeholder="**Hỏi về 5 bài báo** — mỗi câu trả lời là trích dẫn nguyên văn có nguồn.<br>"
                                "**Ask about the 5 articles** — every answer is a verbatim, cited quote.",
                )
                with gr.Row(equal_height=True):
                    helpful = gr.Button(t["helpful"], elem_id="helpful", size="sm", scale=1)
                    not_helpful = gr.Button(t["not_helpful"], elem_id="not-helpful", size="sm", scale=1)
                    feedback_status = gr.Markdown("", elem_id="feedback-status")
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="question", label=t["question"], placeholder=t["placeholder"],
                        max_length=limit, lines=1, max_lines=4, scale=5, autofocus=True,
                    )
                    send = gr.Button(t["send"], elem_id="send", variant="primary", scale=1, min_width=90)
                with gr.Row():
                    lang_choice = gr.Radio(LANG_CHOICES, value="Auto", label="Ngôn ngữ / Language",
                                           elem_id="lang", scale=3)
                    clear = gr.Button(t["clear"], elem_id="clear", scale=1, size="sm")
                with gr.Accordion(FILTER_LABELS["accordion"], open=False, elem_id="filters"):
                    with gr.Row():
                        since = gr.Textbox(label=FILTER_LABELS["since"], placeholder="2022-01-01", max_length=10,
                                           elem_id="since", scale=1)
                        until = gr.Textbox(label=FILTER_LABELS["until"], placeholder="2024-12-31", max_length=10,
                                           elem_id="until", scale=1)
                    sources = gr.Dropdown(choices=[], value=[], multiselect=True, allow_custom_value=True,
                                          label=FILTER_LABELS["sources"], elem_id="sources")
                    gr.Markdown(FILTER_LABELS["hint"])
                files = gr.File(label=UPLOAD_LABEL, file_count="multiple", elem_id="upload",
                                height=110) if config.upload else None
                gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question],
                            label="Ví dụ / Examples", api_visibility="private")
            with gr.Column(scale=2, min_width=320):
                picker = gr.Dropdown(choices=[], value=None, label=t["picker"], elem_id="picker",
                                     interactive=True)
                viewer = gr.HTML(chat.view(None, [], "vi"), label=t["viewer"], show_label=True, container=True,
                                 elem_id="viewer")
        with gr.Accordion("Kho bài viết và chỉ mục · Corpus and index", open=False, elem_id="corpus"):
            corpus_box = gr.HTML(f'<div class="qa-viewer-msg">{esc(TEXT["vi"]["loading"])}</div>')

        private = dict(api_visibility="private")
        outputs = [question, chatbot, turns, lang_state, picker, viewer, feedback_status,
                   send, clear, helpful, not_helpful]
        for trigger in (question.submit, send.click):
            # The filter controls are read first, then the question answered with them.
            trigger(set_filter, [since, until, sources], None, queue=False, **private
                    ).then(chat.respond, [question, chatbot, turns, lang_choice], outputs,
                           concurrency_id="engine", concurrency_limit=config.concurrency, **private
                           ).then(None, js=SCROLL_JS, **private)
        picker.input(on_pick, [picker, turns, lang_state], viewer, **private).then(None, js=SCROLL_JS, **private)
        picker.change(on_pick, [picker, turns, lang_state], viewer, **private).then(None, js=SCROLL_JS, **private)
        lang_choice.change(chat.on_lang, [lang_choice, lang_state],
                           [lang_state, question, picker, viewer, send, clear, helpful, not_helpful], **private)
        chatbot.select(chat.on_select, [turns], picker, **private)
        chatbot.like(chat.on_like, [turns, lang_state], feedback_status, **private)
        chatbot.clear(on_clear, None, [chatbot, turns, picker, viewer, feedback_status], **private)
        clear.click(on_clear, None, [chatbot, turns, picker, viewer, feedback_status], **private)
        helpful.click(lambda ts, lg: chat.rate(ts, lg, "helpful"), [turns, lang_state], feedback_status, **private)
        not_helpful.click(lambda ts, lg: chat.rate(ts, lg, "not_helpful"), [turns, lang_state], feedback_status,
                          **private)
        gr.api(chat.ask, api_name="ask", concurrency_id="engine", concurrency_limit=config.concurrency)

        if files is not None:
            files.upload(chat.upload, [files, chatbot, turns, lang_state],
                         [chatbot, turns, corpus_box, sources, files], concurrency_id="upload", concurrency_limit=1,
                         **private)

        demo.load(chat.corpus_view, None, corpus_box, **private)
        demo.load(chat.sources_update, None, sources, **private)

    demo.queue(max_size=config.queue_size, default_concurrency_limit=config.concurrency)
    return demo

def unavailable(question: object) -> dict:
    """The Answer JSON when the index cannot be served (failed to load, or still loading too long)."""
    return {"question": question[:200] if isinstance(question, str) else "", "language": "en",
            "abstained": True, "answer": "", "message": TEXT["en"]["load_failed"], "citations": [],
            "passages": [], "best_score": None, "context": [], "timings_ms": {}, "error": "index_unavailable"}


def max_file_size(config: Config) -> int:
    """The web server's limit on any uploaded file, in bytes: the article upload limit, or tight without uploads."""
    return config.upload_max_bytes if config.upload else UPLOADS_OFF_MAX_FILE_SIZE


def launch(demo: gr.Blocks, config: Config | None = None, host: str | None = None, port: int | None = None,
           **kwargs):
    """Launch with the safety settings (local bind by default, upload size limit, no SSR)."""
    config = config or Config.from_env()
    return demo.launch(
        server_name=host or config.host,
        server_port=port or config.port,
        max_file_size=max_file_size(config),
        show_error=False,
        ssr_mode=False,
        css=CSS,
        **kwargs,
    )


def main() -> int:
    t0 = time.perf_counter()
    try:
        config = Config.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    live = LiveEngine.start(config)
    demo = create_app(live, config)
    launch(demo, config, prevent_thread_lock=True)
    print(f"serving http://{config.host}:{config.port}/ after {time.perf_counter() - t0:.1f}s; "
          "loading the index", file=sys.stderr)
    try:
        live.wait()
    except BaseException as exc:
        demo.close()
        print(f"error: cannot serve the index in {config.index_dir}: {exc}\n"
              f"rebuild it with `python -m index build --force --out {config.index_dir}`", file=sys.stderr)
        return 1
    print(f"index ready {time.perf_counter() - t0:.1f}s after start: {config.index_dir}", file=sys.stderr)
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
