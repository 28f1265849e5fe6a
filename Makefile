# The two commands of the README:  `make book`  and  `make test`.
# Each creates the virtual environment .venv from requirements.txt when it is missing or stale.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NPM    := node_modules/.installed

.PHONY: book test exercises clean system-packages datasets node-packages browser-packages

# apt_install COMMAND,PACKAGES,NOTE: install Debian PACKAGES when COMMAND is missing, as root
# where apt-get exists; elsewhere print NOTE.
apt_install = command -v $(1) >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q --no-install-recommends $(2) >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $(2) >/dev/null; }; \
	  else echo "note: $(1) is not installed: $(3)"; fi; }

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

# The book serves its own JavaScript (MathJax 3), pinned in package-lock.json: no CDN at read time.
node-packages:
	@$(call apt_install,npm,nodejs npm,install Node.js and npm to build the book)

$(NPM): package.json package-lock.json
	@$(MAKE) --no-print-directory node-packages
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(NPM)

book: $(STAMP) $(NPM) datasets
	$(BIN)/python -m nnlearn.grading.exercises --check .
	$(BIN)/python tools/site_assets.py assets
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@$(BIN)/python tools/site_assets.py timings
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

# The site test (tests/test_site.py) drives Debian's chromium through chromium-driver.
browser-packages:
	@$(call apt_install,chromedriver,chromium chromium-driver,the site test is skipped (under CI=true it fails))

# The book is built first: it executes the lecture notebooks (cached), and the site test reads it.
test: $(STAMP) system-packages datasets browser-packages book
	$(BIN)/python -m pytest

exercises: $(STAMP)
	$(BIN)/python -m nnlearn.grading.exercises .

clean:
	rm -rf _build
