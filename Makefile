# sopipe: `make run` (install, init a demo root, drop the example case, watch) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
ROOT ?= .

.PHONY: run test install system-deps bench templates docs reference settings-table clean

install: system-deps $(VENV)/.installed

system-deps:
	@bash tools/system-deps.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	@touch $@

run: install
	$(VENV)/bin/sopipe init --root $(ROOT)
	$(VENV)/bin/sopipe demo --root $(ROOT)
	$(VENV)/bin/sopipe watch --root $(ROOT)

# Two tiers: the fast one as on a machine where LibreOffice cannot start (a test needing it without the
# `libreoffice` mark fails here), then the tests that need the real LibreOffice.
test: install
	SOPIPE_SOFFICE=$(CURDIR)/tools/no-soffice $(VENV)/bin/python -m pytest -q -m "not libreoffice"
	$(VENV)/bin/python -m pytest -q -m libreoffice

templates: install
	$(VENV)/bin/python tools/make_templates.py

# the documents' pictures: the example case through the real pipeline, first pages as PNG in docs/img/
docs: install
	$(VENV)/bin/python tools/make_docs.py
	$(MAKE) reference

# the generated pages (no LibreOffice needed): the settings table in docs/configuration.md, docs/cli.md
reference: settings-table
	$(VENV)/bin/python tools/make_cli_reference.py

settings-table: install
	$(VENV)/bin/python -m pipeline.settings --readme docs/configuration.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
