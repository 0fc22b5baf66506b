"""The chat's fixed words and styles: example questions, UI strings in both languages, CSS.

Kept apart from ``app.py`` so the rendering code reads without them.
"""

EXAMPLES = [
    "Việt Nam có bao nhiêu người sử dụng internet?",
    "Who led the Vietnamese delegation at Singapore International Cyber Week 2022?",
    "so nguoi dung internet o viet nam dau nam 2024",
    "Hội nghị Bộ trưởng ASEAN về An ninh mạng lần thứ 7 diễn ra khi nào?",
    "How do I bake sourdough bread at home?",
]

LANG_CHOICES = ["Auto", "Tiếng Việt", "English"]
LANG_OF_CHOICE = {"Tiếng Việt": "vi", "English": "en"}

TEXT = {
    "vi": {
        "question": "Câu hỏi",
        "placeholder": "Đặt câu hỏi về các bài viết (tiếng Việt, có hoặc không dấu, hoặc tiếng Anh)…",
        "send": "Gửi",
        "clear": "Xoá hội thoại",
        "helpful": "✓ Có ích",
        "not_helpful": "✗ Không có ích",
        "picker": "Trích dẫn",
        "viewer": "Bài viết nguồn",
        "viewer_empty": "Đặt câu hỏi: bài viết được trích dẫn sẽ mở ở đây, đoạn trích được tô sáng.",
        "chars": "ký tự",
        "of": "trên",
        "no_date": "không rõ ngày",
        "related": "Có liên quan, nhưng không phải câu trả lời:",
        "related_short": "liên quan",
        "open_hint": "Bấm vào câu trả lời để mở bài viết nguồn bên phải.",
        "following": "Tiếp nối câu hỏi:",
        "others": "Các đoạn khác có thể trả lời",
        "confidence": "độ tin cậy",
        "open_original": "mở bài gốc",
        "feedback_saved": "Cảm ơn! Đã ghi nhận đánh giá.",
        "feedback_nothing": "Chưa có câu trả lời để đánh giá.",
        "feedback_failed": "Không ghi được đánh giá.",
        "stale": "Chỉ mục đã thay đổi: bài viết không còn khớp với đoạn trích.",
        "loading": "Đang nạp mô hình và chỉ mục… câu hỏi sẽ được trả lời ngay khi sẵn sàng.",
        "load_failed": "Không nạp được chỉ mục; xem nhật ký của máy chủ.",
        "missing": "Không tìm thấy bài viết trong chỉ mục.",
        "answer_span": "phần trả lời",
        "quote": "đoạn trích",
        "filter_active": "Đã lọc:",
        "upload_building": "Đang đọc tệp và cập nhật chỉ mục…",
        "upload_done": "Đã thêm {n} tệp vào kho bài viết; chỉ mục đã cập nhật, có thể hỏi ngay.",
        "upload_nothing": "Không thêm tệp nào; chỉ mục không đổi.",
        "upload_off": "Máy chủ này không nhận tải lên (QA_UPLOAD=0).",
        "upload_failed": "Không cập nhật được chỉ mục ({error}). Các tệp vừa tải lên đã được gỡ khỏi kho; "
                         "chỉ mục đang dùng không đổi.",
        "upload_not_loaded": "Chỉ mục mới chưa nạp được; câu trả lời vẫn lấy từ chỉ mục cũ.",
        "upload_articles": "{n} bài viết",
        "upload_saved_as": "lưu thành",
        "upload_codes": {
            "added": "đã thêm",
            "same_file": "đã có sẵn trong kho",
            "too_many": "từ chối: quá nhiều tệp một lần ({detail}; QA_UPLOAD_MAX_FILES)",
            "archive": "từ chối: tệp nén ({detail}) không bao giờ được giải nén; hãy tải lên từng bài viết",
            "format": "từ chối: không phải định dạng bài viết ({detail}); nhận .txt .md .html .htm .jsonl .json .csv",
            "too_large": "từ chối: tệp quá lớn ({detail}; QA_UPLOAD_MAX_BYTES)",
            "unreadable": "từ chối: không đọc được ({detail})",
            "no_article": "từ chối: không có bài viết nào đọc được ({detail})",
            "duplicate": "từ chối: đã có trong chỉ mục ({detail})",
        },
    },
    "en": {
        "question": "Question",
        "placeholder": "Ask about the articles (English, or Vietnamese with or without diacritics)…",
        "send": "Send",
        "clear": "Clear chat",
        "helpful": "✓ Helpful",
        "not_helpful": "✗ Not helpful",
        "picker": "Citation",
        "viewer": "Source article",
        "viewer_empty": "Ask a question: the cited article opens here with the quote highlighted.",
        "chars": "characters",
        "of": "of",
        "no_date": "no date",
        "related": "Related, but not an answer:",
        "related_short": "related",
        "open_hint": "Click an answer to open its source article on the right.",
        "following": "Following up on:",
        "others": "Other passages that may answer",
        "confidence": "confidence",
        "open_original": "open the original",
        "feedback_saved": "Thank you! Feedback saved.",
        "feedback_nothing": "There is no answer to rate yet.",
        "feedback_failed": "Could not save the feedback.",
        "stale": "The index changed: the article no longer matches the quote.",
        "loading": "Loading the model and the index… the question is answered as soon as they are ready.",
        "load_failed": "The index could not be loaded; see the server log.",
        "missing": "The article is not in the index.",
        "answer_span": "answer",
        "quote": "quote",
        "filter_active": "Filtered:",
        "upload_building": "Reading the files and updating the index…",
        "upload_done": "Added {n} file(s) to the corpus; the index is updated: ask away.",
        "upload_nothing": "No file was added; the index is unchanged.",
        "upload_off": "This server takes no uploads (QA_UPLOAD=0).",
        "upload_failed": "The index could not be updated ({error}). The uploaded files were taken out of the "
                         "corpus again; the index in use is unchanged.",
        "upload_not_loaded": "The new index could not be loaded yet; answers still come from the previous one.",
        "upload_articles": "{n} article(s)",
        "upload_saved_as": "saved as",
        "upload_codes": {
            "added": "added",
            "same_file": "already in the corpus",
            "too_many": "refused: too many files at once ({detail}; QA_UPLOAD_MAX_FILES)",
            "archive": "refused: an archive ({detail}) is never unpacked; upload its articles one by one",
            "format": "refused: not an article format ({detail}); accepted: .txt .md .html .htm .jsonl .json .csv",
            "too_large": "refused: too large ({detail}; QA_UPLOAD_MAX_BYTES)",
            "unreadable": "refused: cannot be read ({detail})",
            "no_article": "refused: no readable article in it ({detail})",
            "duplicate": "refused: already indexed ({detail})",
        },
    },
}

CSS = """
.qa-answer { line-height: 1.5; }
.qa-answer .qa-msg { margin: 0 0 .4em 0; font-weight: 600; }
.qa-answer blockquote.qa-quote { margin: .3em 0; padding: .4em .7em; border-left: 4px solid #f59e0b;
  background: rgba(245, 158, 11, .08); white-space: pre-wrap; }
.qa-answer .qa-cite { font-size: .9em; opacity: .9; margin-bottom: .5em; }
.qa-answer .qa-hint { font-size: .8em; opacity: .7; }
.qa-answer .qa-context { font-size: .8em; opacity: .7; margin: 0 0 .3em 0; }
.qa-answer.qa-low { border-left: 3px solid #d9a400; padding-left: .5em; }
.qa-answer .qa-others summary { cursor: pointer; font-size: .9em; opacity: .85; margin: .3em 0; }
.qa-answer .qa-prob { font-size: .9em; opacity: .8; }
.qa-abstain .qa-msg { color: #b45309; }
.qa-error .qa-msg { color: #b91c1c; }
.qa-related-item { font-size: .88em; margin: .3em 0; padding: .3em .6em; border-left: 3px solid #9ca3af;
  max-height: 9em; overflow: auto; white-space: pre-wrap; }
.qa-loading .qa-msg { color: #2563eb; }
mark.qa-span { background: #fde047; color: inherit; font-weight: 700; padding: 0 .1em; }
mark.qa-quote-span { background: #fef3c7; color: inherit; }
mark.qa-quote-span.qa-span { background: #fde047; }
mark.qa-passage { background: #e5e7eb; color: inherit; }
#viewer .qa-viewer, #viewer .qa-viewer-msg { padding-top: 1.4em; }
#viewer .qa-viewer-body { position: relative; max-height: 520px; overflow: auto; padding-right: .5em; }
#viewer .qa-viewer-head { font-size: .92em; margin-bottom: .6em; }
#viewer .qa-viewer-head h3 { margin: 0 0 .2em 0; }
#viewer p.qa-para { margin: .45em 0; padding: .2em .4em; white-space: pre-wrap; }
#viewer p.qa-para.qa-hit { background: rgba(245, 158, 11, .12); border-left: 4px solid #f59e0b; }
.qa-legend mark { padding: 0 .3em; }
.qa-answer .qa-filter { font-size: .8em; opacity: .7; margin: .2em 0 0 0; }
.qa-upload ul { margin: .2em 0; padding-left: 1.2em; }
.qa-upload li.qa-refused { color: #b91c1c; }
.qa-corpus table { width: 100%; font-size: .9em; border-collapse: collapse; }
.qa-corpus td, .qa-corpus th { padding: .2em .4em; border-bottom: 1px solid #e5e7eb; text-align: left; }
"""

# The filter and upload controls: labels in both languages, like the corpus panel's.
FILTER_LABELS = {
    "accordion": "Bộ lọc · Filters",
    "since": "Từ ngày · Since (YYYY-MM-DD)",
    "until": "Đến ngày · Until (YYYY-MM-DD)",
    "sources": "Nguồn · Sources (mã bài viết hoặc tên miền · article ids or domains)",
    "hint": "Áp dụng cho các câu hỏi tiếp theo; lọc theo ngày bỏ qua bài không rõ ngày. "
            "Applies to the next questions; a date filter leaves out articles without a date.",
}
UPLOAD_LABEL = "Thêm bài viết · Add articles (.txt .md .html .htm .jsonl .json .csv)"

SCROLL_JS = """() => { setTimeout(() => {
  const box = document.querySelector('#viewer .qa-viewer-body');
  const hit = box && box.querySelector('.qa-hit');
  if (hit) { box.scrollTop = Math.max(0, hit.offsetTop - 16); }
}, 50); }"""
