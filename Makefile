# The two commands of the README:  `make book`  and  `make test`.
# Each creates the virtual environment .venv from requirements.txt when it is missing or stale.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test exercises clean system-packages datasets

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

book: $(STAMP) datasets
	$(BIN)/python -m nnlearn.grading.exercises --check .
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Book built: _build/html/index.html"

# The grader's sandbox needs bubblewrap (and util-linux's setpriv and unshare, on every Debian).
# As root on Debian/Ubuntu it is installed here; elsewhere the grader falls back, says so in every
# report, and its isolation tests fail under CI=true.
system-packages:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q --no-install-recommends bubblewrap >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends bubblewrap >/dev/null; }; \
	  else echo "note: bubblewrap is not installed: the grader runs without its sandbox (see README)"; fi; }

# Real 28x28 images for the chapters: Debian's dataset-fashion-mnist puts the Fashion-MNIST IDX
# files in /usr/share/datasets/fashion-mnist (30 MB), where nnlearn.data looks for them. As root on
# Debian/Ubuntu it is installed here; elsewhere, or if that fails, a note points to the README (Data).
# No data is no failure here: the loaders fail with a clear message where a chapter needs it.
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
datasets:
	@test -f $(FASHION_MNIST) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q --no-install-recommends dataset-fashion-mnist >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends dataset-fashion-mnist >/dev/null 2>&1; } || \
	    echo "note: apt-get could not install dataset-fashion-mnist (see README, Data)"; \
	  else echo "note: dataset-fashion-mnist is not installed: set NNLEARN_DATA_DIR or allow downloads (see README, Data)"; fi; }

test: $(STAMP) system-packages datasets
	$(BIN)/python -m pytest

exercises: $(STAMP)
	$(BIN)/python -m nnlearn.grading.exercises .

clean:
	rm -rf _build
