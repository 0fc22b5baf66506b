# make run   - set everything up and start the chat on 127.0.0.1:7860 (HOST/PORT to change)
# make test  - the whole test suite
# make test-fast - unit tests only (fake embedder, no model, no browser): under a minute
PYTHON_SYS ?= $(shell command -v python3.11 || command -v python3)
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed

.PHONY: install index run test eval bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU build, never the CUDA one
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

index: install
	$(PY) -m index build

# The app serves its page at once and builds/loads the index in the background.
run: install
	$(PY) app.py

test: install
	$(PY) -m pytest -q

.PHONY: test-fast test-random
test-fast: install
	$(PY) -m pytest -q -m "not integration and not browser and not stress"

# test-random - the whole suite with modules and the tests inside them shuffled (pytest-random-order);
#               the seed is printed, and RANDOM_SEED=<seed> replays an order
RANDOM_SEED ?= $(shell date +%s)
test-random: install
	$(PY) -m pytest -q --random-order-bucket=module --random-order-seed=$(RANDOM_SEED)

bench: install
	$(PY) -m eval.bench_embedding

clean:
	rm -rf .cache eval/out

.PHONY: screenshots
# screenshots - regenerate screenshots/*.png with headless Chromium (apt-get install chromium)
screenshots: install
	SCREENSHOTS=1 $(PY) -m pytest -q tests/test_browser.py

.PHONY: xquad bench-e2e
# eval       - gold questions: ours vs bm25/dense/naive, report in eval/out/run/
eval: install
	$(PY) -m eval run --questions eval/gold/articles.jsonl --out eval/out/run
	$(PY) -m eval calibrate --questions eval/gold/articles.jsonl

# xquad      - XQuAD: Vietnamese paragraphs asked in Vietnamese and English, English paragraphs in English,
#              both paragraph sets together asked in English (report in eval/out/xquad/report.md)
xquad: install
	$(PY) -m eval xquad --context-lang vi --question-lang vi
	$(PY) -m eval xquad --context-lang vi --question-lang en
	$(PY) -m eval xquad --context-lang en --question-lang en
	$(PY) -m eval xquad --context-lang mixed --question-lang en

.PHONY: train-reranker
# train-reranker - the answer-sentence cross-encoder (<= 60 min on 2 cores) from scripts/data, then its
#              combiner and abstention threshold on held-out articles; writes index/data/reranker/
train-reranker: install
	$(PY) scripts/train_reranker.py
	$(PY) scripts/fit_combiner.py

.PHONY: ablation
# ablation   - the lexicon in BM25 / coverage / both / neither, XQuAD test part and gold test split
ablation: install
	$(PY) -m eval ablation --split test

.PHONY: chat-eval
# chat-eval  - conversations answered turn by turn with and without their history: gold + synthetic XQuAD
#              follow-ups, by turn kind, with latency (eval/out/chat/report.md)
chat-eval: install
	$(PY) -m eval chat --set all

.PHONY: suite
# suite      - ours vs bm25/dense/naive on corpora of different character (XQuAD three ways, same-beat SQuAD and
#              its near misses, the articles, NTREX), dev parts; indexes cached in .cache/eval-suite/
#              (eval/out/suite/report.md; `python -m eval suite --split test` for the test parts)
suite: install
	$(PY) -m eval suite

# bench-e2e  - end-to-end latency, build time, cold start, peak memory (eval/out/bench.*)
bench-e2e: install
	$(PY) -m eval bench

.PHONY: bench-scale
# bench-scale - vector index flat/hnsw/ivf/ivf-sq8 vs corpus size: build, load, RSS, search, recall@10; synthetic
#              vectors, no encoding (eval/out/bench-scale.*). 1M needs ~3.5 GB RAM and ~3.5 GB in /tmp.
SIZES ?= 10000 100000 1000000
bench-scale: install
	$(PY) -m eval bench-scale --sizes $(SIZES)

.PHONY: bench-build
# bench-build - build encoding throughput, here and on Ray, and the estimate for 10,000 articles
#               (eval/out/bench-build.*; the XQuAD corpus comes from `make xquad`)
bench-build: install
	$(PY) -m eval bench-build

.PHONY: bench-store
# bench-store - a whole synthetic generation (100k and 1M passages) saved, loaded and queried through the
#               store's own code: disk, load time, RSS, answer time without encoding (eval/out/bench-store.*)
bench-store: install
	$(PY) -m eval bench-store

.PHONY: stress
# stress     - heavy runs: 20+ SIGKILLed builds, 20 clients x 50 questions, 2,000-question memory check,
#              long fuzzing (summary in eval/out/stress.json); hard cap 15 minutes per part
stress: install
	FUZZ_EXAMPLES=3000 FUZZ_ANSWER_EXAMPLES=300 timeout 900 $(PY) -m pytest -q -p no:cacheprovider tests/test_fuzz.py
	STRESS_OUT=eval/out timeout 900 $(PY) -m pytest -q -s tests/stress/test_stress_crash.py
	STRESS_OUT=eval/out timeout 900 $(PY) -m pytest -q -s tests/stress/test_stress_load.py
