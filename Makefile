# sopipe: `make run` (install, init a demo root, drop the example case, watch) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
ROOT ?= .
DESK_PORT ?= 8000

LOCK := requirements.lock
LOCK_VENV := .venv-lock
LOCK_TEST_ARGS ?=

.PHONY: run test install system-deps bench templates docs reference settings-table screenshots clean lock

install: system-deps $(VENV)/.installed

system-deps:
	@bash tools/system-deps.sh

# the tested install: every Python package at the version of the lock, then sopipe itself without resolving again
$(VENV)/.installed: pyproject.toml $(LOCK)
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r $(LOCK)
	$(VENV)/bin/python -m pip install -q --no-deps -e .
	@$(VENV)/bin/python -m pip check >/dev/null || { $(VENV)/bin/python -m pip check; \
	  echo "$(LOCK) does not satisfy pyproject.toml (a dependency was added or changed): run make lock"; exit 1; }
	@touch $@

# refresh the lock on purpose (after a change of dependencies in pyproject.toml): resolve pyproject.toml afresh
# in a new environment, run the suite there (LOCK_TEST_ARGS narrows it), and only when it passes write the exact
# versions of everything installed, test extras included. Unattended; commit requirements.lock afterwards.
lock: system-deps
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install -q -e '.[test]'
	$(LOCK_VENV)/bin/python -m pytest -q -p no:cacheprovider $(LOCK_TEST_ARGS)
	{ echo "# Exact versions the test suite passed with: written by \`make lock\`, installed by \`make install\`."; \
	  echo "# $$($(LOCK_VENV)/bin/python -c 'import platform; print("Python", platform.python_version(), platform.machine())')"; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)
	rm -rf $(LOCK_VENV)

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

# Two tiers: the fast one as on a machine where LibreOffice cannot start (a test needing it without the
# `libreoffice` mark fails here), then the tests that need the real LibreOffice.
# (Debian's nginx binary is unpacked into the virtual environment for the reverse-proxy test: tools/test-nginx.sh)
test: install
	@bash tools/test-nginx.sh $(CURDIR)/$(VENV)/opt/nginx
	SOPIPE_SOFFICE=$(CURDIR)/tools/no-soffice $(VENV)/bin/python -m pytest -q -m "not libreoffice"
	$(VENV)/bin/python -m pytest -q -m libreoffice

templates: install
	$(VENV)/bin/python tools/make_templates.py

# the documents' pictures: the example case through the real pipeline, first pages as PNG in docs/img/
docs: install
	$(VENV)/bin/python tools/make_docs.py
	$(MAKE) reference

# the generated pages (no LibreOffice needed): the settings table in docs/configuration.md, docs/cli.md, the table
# of document kinds in docs/documents.md
reference: settings-table
	$(VENV)/bin/python tools/make_cli_reference.py
	$(VENV)/bin/python tools/make_kinds_table.py

# the desk's pictures in docs/img/desk-*.png, taken by the browser tests (a plain test run leaves docs/ alone)
screenshots: install
	SOPIPE_SCREENSHOTS=$(CURDIR)/docs/img $(VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_desk_in_the_browser.py tests/test_desk_roles_in_the_browser.py

settings-table: install
	$(VENV)/bin/python -m pipeline.settings --readme docs/configuration.md

clean:
	rm -rf $(VENV) $(LOCK_VENV) build *.egg-info .pytest_cache .hypothesis
