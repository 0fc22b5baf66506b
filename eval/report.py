"""Markdown tables and matplotlib (Agg) plots."""
from __future__ import annotations

from pathlib import Path


def fmt(value, pct: bool = False, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return f"{100 * value:.{digits}f}" if pct else f"{value:.{digits}f}"


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(out: Path, name: str, data, md: str) -> None:
    """``<name>.json`` and ``<name>.md`` in ``out`` (created), and the markdown on stdout."""
    import json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    (out / f"{name}.md").write_text(md, encoding="utf-8")
    print(md)


def _get(d: dict | None, *keys):
    for k in keys:
        if d is None:
            return None
        d = d.get(k)
    return d


def answer_table(summary: dict, systems: list[str], groups: list[str]) -> str:
    headers = ["system", "group", "n (ans/unans)", "hit rate %", "span EM %", "span F1 %",
               "abst. precision %", "abst. recall %", "false abst. %", "accuracy %", "verbatim %"]
    rows = []
    for s in systems:
        for g in groups:
            m = summary[s][g]
            rows.append([s, g, f"{m['n']} ({m['answerable']}/{m['unanswerable']})",
                         fmt(m["hit_rate"], True), fmt(m["em"], True), fmt(m["f1"], True),
                         fmt(m["abstain_precision"], True), fmt(m["abstain_recall"], True),
                         fmt(m["abstain_false_abstention"], True), fmt(m["accuracy"], True),
                         fmt(m["verbatim_rate"], True)])
    return table(headers, rows)


def retrieval_table(summary: dict, systems: list[str], groups: list[str]) -> str:
    headers = ["system", "group", "src R@1", "src R@5", "src R@10", "src MRR", "src nDCG@10",
               "psg R@1", "psg R@5", "psg R@10", "psg hit@1", "psg hit@5", "psg MRR", "psg nDCG@10"]
    rows = []
    for s in systems:
        for g in groups:
            r = summary[s][g].get("retrieval") or {}
            src, psg = r.get("source"), r.get("passage")
            rows.append([s, g] + [fmt(_get(src, k), True) for k in ("recall@1", "recall@5", "recall@10",
                                                                    "mrr", "ndcg@10")]
                        + [fmt(_get(psg, k), True) for k in ("recall@1", "recall@5", "recall@10",
                                                             "hit_rate@1", "hit_rate@5", "mrr", "ndcg@10")])
    return table(headers, rows)


def latency_table(summary: dict, systems: list[str], group: str = "all") -> str:
    headers = ["system", "embed p50", "embed p95", "search p50", "search p95", "extract p50",
               "extract p95", "total p50", "total p95"]
    rows = []
    for s in systems:
        lat = summary[s][group]["latency_ms"]
        rows.append([s] + [fmt(lat[st][p]) for st in ("embed", "search", "extract", "total")
                           for p in ("p50", "p95")])
    return table(headers, rows)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_sweep(sweeps: dict[str, list[dict]], current: dict[str, float], path: Path, title: str) -> None:
    """One panel per language: hit rate, false abstention and abstention recall vs threshold."""
    plt = _pyplot()
    langs = [lang for lang in ("vi", "en") if sweeps.get(lang)]
    fig, axes = plt.subplots(1, max(1, len(langs)), figsize=(6 * max(1, len(langs)), 4.2), squeeze=False)
    for ax, lang in zip(axes[0], langs):
        pts = sweeps[lang]
        xs = [p["threshold"] for p in pts]
        for key, label in (("hit_rate", "hit rate (answerable)"),
                           ("abstain_false_abstention", "false abstention (answerable)"),
                           ("abstain_recall", "abstention recall (unanswerable)"),
                           ("accuracy", "accuracy (all)")):
            ys = [p[key] if p[key] is not None else float("nan") for p in pts]
            ax.step(xs, ys, where="mid", label=label)
        ax.axvline(current[lang], color="grey", linestyle="--", label=f"configured {current[lang]:.3f}")
        ax.set_title(f"questions detected as {lang} (n={pts[0]['n']})")
        ax.set_xlabel("abstention threshold on best_score")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latency(totals: dict[str, list[float]], path: Path, title: str) -> None:
    plt = _pyplot()
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 4))
    vals = [v for vs in totals.values() for v in vs if v and v > 0]
    if vals:
        bins = np.logspace(np.log10(min(vals)), np.log10(max(vals)), 40)
        for name, vs in totals.items():
            ax.hist([v for v in vs if v and v > 0], bins=bins, alpha=0.5, label=name)
        ax.set_xscale("log")
    ax.set_xlabel("total latency per question (ms, log scale)")
    ax.set_ylabel("questions")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
