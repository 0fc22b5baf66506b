"""Command line: ``python -m index build|ask|show|info|config``."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .config import Config
from .rerank import RerankerError
from .store import IndexCorrupt, StoreError, load_generation, read_manifest

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


def _config(args) -> Config:  # raises ValueError on a malformed or out-of-range setting
    return Config.from_env(
        corpus_dir=getattr(args, "corpus", None),
        index_dir=getattr(args, "index", None),
        k=getattr(args, "k", None),
        encode_engine=getattr(args, "engine", None),
        ray_encoders=getattr(args, "encoders", None),
    )


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def cmd_build(args) -> int:
    from .build import build

    config = _config(args)
    result = build(config, force=args.force, progress=not args.quiet)
    report = result.report
    print(f"corpus: {config.corpus_dir} ({result.articles} articles); cleaning {report.summary()}")
    if args.verbose:
        for r in report.removed:
            print(f"  - {r.source}: [{r.reason}] {r.line[:100]}")
    if result.generation is None:
        print(f"index up to date: {config.index_dir} ({result.seconds['total']:.1f}s)")
    else:
        reused = f", {len(result.reused_articles)} articles reused" if result.reused_articles else ""
        kind = read_manifest(config.index_dir).get("chunk_index", {})
        search = "exact search" if kind.get("kind") == "flat" else \
            f"IVF-SQ8 index, nlist {kind.get('nlist')}, nprobe {kind.get('nprobe')}"
        print(f"built generation {result.generation} in {config.index_dir}: {result.chunks} chunks, "
              f"{result.sentences} sentences, {result.embedded} texts encoded{reused}, {search} "
              f"({result.seconds['total']:.1f}s, encoding {result.seconds.get('encode', 0):.1f}s)")
    return EXIT_OK


def _render(ans) -> str:
    lines = [ans.message]
    for n, q in enumerate(ans.quotes, 1):
        lines.append(f"  “{q.text}”")
        lines.append(f"  [{n}] {q.title} — {q.date or 'no date'} — {q.source} [{q.start}:{q.end}] "
                     f"score {q.score:.3f}")
        if q.url:
            lines.append(f"      {q.link}")
        if q.highlight_start is not None:
            span = q.text[q.highlight_start - q.start:q.highlight_end - q.start]
            lines.append(f"      answer: {span}")
    if ans.filter is not None and ans.filter.active:
        from .answer import describe_filter

        lines.append(f"  ({describe_filter(ans.filter, ans.language)})")
    return "\n".join(lines)


def _read_stdin_questions():
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield None, f"stdin is not valid UTF-8 (byte {exc.start})"
        return
    for line in text.splitlines():
        if line.strip():
            yield line, None


def _bad_history(item: dict, config: Config, why: str):
    from .answer import rejected
    from .question import BadQuestion

    ans = rejected(item.get("question", ""), BadQuestion("bad_history"), config, id=item.get("id"))
    ans.message = f"{ans.message} {why}"
    return ans


def cmd_ask(args) -> int:
    from .answer import answer, filter_rejected, rejected
    from .engine import load
    from .question import BadQuestion, parse
    from .types import BadFilter, Filter

    config = _config(args)
    flags = {"since": args.since, "until": args.until, "sources": args.sources}
    if args.question and args.question != ["-"]:
        question = " ".join(args.question)
        try:  # reject bad input before paying for the model
            q = parse(question, config.max_question_chars)
            Filter.of(**flags)
        except BadQuestion as bad:
            ans = rejected(question, bad, config)
        except BadFilter as bad:
            ans = filter_rejected(q, bad)
        else:
            ans = answer(load(config), question, **flags)
        if args.json:
            _print_json(ans.to_dict())
        elif ans.error:
            print(f"error: {ans.message}", file=sys.stderr)
        else:
            print(_render(ans))
        return EXIT_BAD_INPUT if ans.error else EXIT_OK
    # One question per stdin line, one JSON answer per output line.
    lines = list(_read_stdin_questions())
    if lines and lines[0][1]:
        print(f"error: {lines[0][1]}", file=sys.stderr)
        return EXIT_BAD_INPUT
    engine = load(config)
    status = EXIT_OK
    conversations: dict[str, list[dict]] = {}  # id -> its earlier Answer JSON objects, in input order
    for n, (line, _) in enumerate(lines, 1):
        try:
            item = json.loads(line) if line.lstrip().startswith("{") else {"question": line}
        except ValueError:
            item = {"question": line}
        conversation = item.get("conversation")
        history = item.get("history")
        if isinstance(conversation, bool) or not isinstance(conversation, (str, int, type(None))):
            ans = _bad_history(item, config, "\"conversation\" must be a string or a number")
        else:
            if conversation is not None:
                earlier = conversations.setdefault(str(conversation), [])
                history = earlier if history is None else history + earlier if isinstance(history, list) else history
            # A line's own "since" / "until" / "source" each replace the flag of that name.
            ans = answer(engine, item.get("question", ""), id=item.get("id", str(n)), history=history,
                         since=item.get("since", args.since), until=item.get("until", args.until),
                         sources=item.get("source", args.sources))
        out = ans.to_dict()
        if conversation is not None:
            out["conversation"] = conversation
            if not ans.error and str(conversation) in conversations:
                conversations[str(conversation)].append(out)
        _print_json(out)
        if ans.error:
            status = EXIT_BAD_INPUT
    return status


def cmd_show(args) -> int:
    gen = load_generation(_config(args).index_dir)
    article = gen.articles.get(args.source)
    if article is None:
        print(f"error: no article {args.source!r} in the index; known: {', '.join(gen.articles)}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        _print_json({"source": article.source, "title": article.title, "date": article.date,
                     "text": article.text})
    else:
        print(article.text)
    return EXIT_OK


def cmd_info(args) -> int:
    config = _config(args)
    manifest = read_manifest(config.index_dir)
    if manifest is None:
        print(f"no index in {config.index_dir}; build it with `python -m index build`", file=sys.stderr)
        return EXIT_ERROR
    gen = load_generation(config.index_dir)  # verifies checksums
    info = {
        "index_dir": str(config.index_dir),
        "generation": gen.name,
        "created_at": manifest.get("created_at"),
        "model_id": manifest.get("model_id"),
        "settings": manifest.get("settings"),
        "counts": manifest.get("counts"),
        "articles": [{"source": a.source, "title": a.title, "date": a.date, "chars": len(a.text)}
                     for a in gen.articles.values()],
    }
    if args.json:
        _print_json(info)
    else:
        print(f"index {info['index_dir']} generation {info['generation']} (built {info['created_at']})")
        print(f"model {info['model_id']}; {info['counts']}; settings {info['settings']}")
        for a in info["articles"]:
            print(f"  {a['source']}  {a['date'] or '----------'}  {a['chars']:>6} chars  {a['title'][:70]}")
    return EXIT_OK


def cmd_config(args) -> int:
    """Every setting: its environment variable, current value and why it exists."""
    config = Config.from_env()
    rows = [{"field": name, "env": env, "value": getattr(config, name), "why": why}
            for name, env, _, why in Config.knobs()]
    if args.json:
        _print_json([{**r, "value": str(r["value"]) if isinstance(r["value"], Path) else r["value"]}
                     for r in rows])
    else:
        for r in rows:
            print(f"{r['env']:<26} {r['field']:<22} {r['value']!r}\n{'':<26} {r['why']}")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m index",
                                description="Cited, extractive question answering over news articles.")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build or update the index from a folder of articles")
    b.add_argument("--corpus", type=Path,
                   help="folder of articles: .txt/.md, .html/.htm, .jsonl/.json/.csv exports "
                        "(default: corpus/, env CORPUS_DIR)")
    b.add_argument("--out", "--index", dest="index", type=Path,
                   help="index folder (default: .cache/index, env INDEX_DIR)")
    b.add_argument("--force", action="store_true", help="re-embed everything")
    b.add_argument("--engine", choices=["local", "ray"],
                   help="where to encode: this process, or Ray Data (a local Ray, or the cluster at RAY_ADDRESS); "
                        "default: local, env QA_ENCODE_ENGINE")
    b.add_argument("--encoders", type=int, help="Ray encoder actors (default 2, env QA_RAY_ENCODERS)")
    b.add_argument("--verbose", "-v", action="store_true", help="list every removed boilerplate line")
    b.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    b.set_defaults(func=cmd_build)

    a = sub.add_parser(
        "ask", help="answer a question (or one per stdin line, JSON lines out)",
        description="Answer one question, or one per stdin line (JSON lines out). A stdin line is a question or "
                    'a JSON object {"id", "question", "conversation"?, "history"?, "since"?, "until"?, "source"?}: '
                    'lines sharing a "conversation" id are one conversation, answered in input order with the '
                    'earlier turns as history; "history" is an explicit list of earlier questions or Answer JSON '
                    'objects; "since", "until" and "source" (a string or a list) filter as the flags do, each '
                    "replacing the flag of its name for that line.")
    a.add_argument("question", nargs="*", help="the question; omit or '-' to read questions from stdin")
    a.add_argument("--index", type=Path, help="index folder (default: .cache/index, env INDEX_DIR)")
    a.add_argument("--json", action="store_true", help="print the Answer JSON")
    a.add_argument("-k", type=int, help="passages to retrieve (default 5)")
    a.add_argument("--since", metavar="YYYY-MM-DD",
                   help="only articles published on or after this date (articles without a date are left out)")
    a.add_argument("--until", metavar="YYYY-MM-DD", help="only articles published on or before this date")
    a.add_argument("--source", dest="sources", action="append", metavar="ID_OR_DOMAIN",
                   help="only this article (its id, e.g. 004_11babb57b19a238d.txt) or the articles of this "
                        "domain (e.g. vnexpress.net); repeat for several. The filters apply before ranking")
    a.set_defaults(func=cmd_ask)

    s = sub.add_parser("show", help="print an article's stored text (the text citation offsets index)")
    s.add_argument("source", help="article file name, e.g. 004_11babb57b19a238d.txt")
    s.add_argument("--index", type=Path)
    s.add_argument("--json", action="store_true", help='print {"source","title","date","text"}')
    s.set_defaults(func=cmd_show)

    i = sub.add_parser("info", help="describe the live index generation")
    i.add_argument("--index", type=Path)
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_info)

    c = sub.add_parser("config", help="list every setting with its environment variable and current value")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_config)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "k", None) is not None and not 1 <= args.k <= 50:
        print("error: -k must be between 1 and 50", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.func(args)
    except (StoreError, FileNotFoundError, ValueError, RerankerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if isinstance(exc, IndexCorrupt) and "rebuild" not in str(exc):
            print("the index is damaged: rebuild it with `python -m index build`", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
