from index.text import fold, keyword_tokens, normalize, sentence_spans


def test_fold_maps_d_stroke_and_keeps_length():
    assert fold("Đường đến Đà Nẵng") == "Duong den Da Nang"
    assert fold("số người dùng internet") == "so nguoi dung internet"
    for s in ["Đường", "Ỹ", "ừ", "日本", "a\u0301"]:
        assert len(fold(s)) == len(s)


def test_keyword_tokens_rank_exact_above_folded():
    tokens = keyword_tokens("đường")
    assert "đường" in tokens and "~duong" in tokens
    assert "~duong" in keyword_tokens("duong") and "đường" not in keyword_tokens("duong")


def test_normalize_nfc_spaces_and_invisible():
    assert normalize("a\u00a0b\u200bc\r\nd") == "a bc\nd"
    assert normalize("Vie\u0323\u0302t") == "Việt"


def _sentences(text):
    return [text[s:e] for s, e in sentence_spans(text)]


def test_sentences_abbreviations_numbers_dates_quotes():
    text = ("GS. TS. Nguyễn Hiếu Minh phát biểu tại TP. Hồ Chí Minh. "
            "Có 78,44 triệu người và 390.000 tỷ đồng ngày 12/10/2017. "
            "Ông nói: “Hợp tác là chìa khóa.” Sau đó hội thảo bế mạc!")
    assert _sentences(text) == [
        "GS. TS. Nguyễn Hiếu Minh phát biểu tại TP. Hồ Chí Minh.",
        "Có 78,44 triệu người và 390.000 tỷ đồng ngày 12/10/2017.",
        "Ông nói: “Hợp tác là chìa khóa.”",
        "Sau đó hội thảo bế mạc!",
    ]


def test_sentences_lines_without_final_punctuation():
    text = "Tiêu đề không có dấu chấm\n\nĐoạn văn đầu. Câu thứ hai\nChú thích ảnh"
    assert _sentences(text) == ["Tiêu đề không có dấu chấm", "Đoạn văn đầu.", "Câu thứ hai", "Chú thích ảnh"]


def test_sentence_offsets_slice_exactly():
    text = "  Một câu.   Hai câu?  \n\n Ba… bốn. "
    for s, e in sentence_spans(text):
        assert text[s:e] == text[s:e].strip() and text[s:e]
