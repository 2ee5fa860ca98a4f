# sopipe: `make run` (install, init a demo root, drop the example case, watch) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
ROOT ?= .
DESK_PORT ?= 8000

.PHONY: run test install system-deps bench templates docs settings-table clean

install: system-deps $(VENV)/.installed

system-deps:
	@bash tools/system-deps.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	@touch $@

# the desk beside the watcher: its address and a DEMO secretariat user (one-time password, TOTP secret) are printed
run: install
	$(VENV)/bin/sopipe init --root $(ROOT)
	$(VENV)/bin/sopipe demo --root $(ROOT)
	$(VENV)/bin/sopipe desk adduser demo --naam "Demo Secretariaat" --role secretariaat --organisatie arbonoord \
		--replace --root $(ROOT)
	@echo "Desk: http://127.0.0.1:$(DESK_PORT)/  (user: demo; password and code: see above)"
	$(VENV)/bin/sopipe desk serve --root $(ROOT) --port $(DESK_PORT) & desk=$$!; \
		trap 'kill $$desk 2>/dev/null; wait $$desk' EXIT INT TERM; \
		$(VENV)/bin/sopipe watch --root $(ROOT)

test: install
	$(VENV)/bin/python -m pytest -q

templates: install
	$(VENV)/bin/python tools/make_templates.py

# the README's pictures: the example case through the real pipeline, first pages as PNG in docs/img/
docs: install
	$(VENV)/bin/python tools/make_docs.py
	$(VENV)/bin/python -m pipeline.settings --readme README.md

# the README's settings table, generated from the models in pipeline/settings.py (no LibreOffice needed)
settings-table: install
	$(VENV)/bin/python -m pipeline.settings --readme README.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
