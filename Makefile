# The two commands of the README:  `make book`  and  `make test`.
# Each creates the virtual environment .venv from requirements.txt when it is missing or stale.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test exercises clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/python -m nnlearn.grading.exercises --check .
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Book built: _build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

exercises: $(STAMP)
	$(BIN)/python -m nnlearn.grading.exercises .

clean:
	rm -rf _build
