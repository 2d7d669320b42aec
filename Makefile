# Ankieta: `make run` starts a demo server and its worker, `make test` installs everything the
# tests need (the venv, Chromium, LibreOffice Calc, axe-core) and runs the whole test suite.
PYTHON   ?= python3.11
VENV     := .venv
BIN      := $(VENV)/bin
HOST     ?= 127.0.0.1
PORT     ?= 5000
STAMP    := $(VENV)/.installed
# tests/browser: Debian's Chromium (Playwright never downloads a browser) and axe-core from
# npm, pinned by tests/browser/package-lock.json; the export tests: headless LibreOffice Calc
# must open every workbook we write, and Writer every report document; the bounce tests:
# Dovecot's IMAP server (each test runs its own on loopback, so the system service the
# package starts is stopped and disabled).
CHROMIUM ?= $(or $(ANKIETA_CHROMIUM),/usr/bin/chromium)
AXE      := tests/browser/node_modules/axe-core/axe.min.js
SUDO     := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# the Debian packages of the above that are not installed yet (one apt-get run for all)
MISSING_PACKAGES := $(strip \
  $(if $(wildcard $(CHROMIUM)),,chromium) \
  $(if $(shell command -v localc),,libreoffice-calc) \
  $(if $(shell command -v lowriter),,libreoffice-writer) \
  $(if $(shell command -v npm),,npm) \
  $(if $(wildcard /usr/lib/dovecot/imap),,dovecot-imapd))

.PHONY: run test test-deps system-deps browser-deps office-deps install translations \
  extract-messages lint format clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d app/translations

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k lazy_gettext -k say -k fail --no-location \
	  --sort-output --project=Ankieta -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

run: install
	$(BIN)/ankieta init
	ANKIETA_BASE_URL=http://$(HOST):$(PORT) $(BIN)/ankieta demo
	@echo ""
	@echo "Ankieta is starting at http://$(HOST):$(PORT)/  (log in with an account above; Ctrl+C stops it)"
	@# the worker (results files, reports, e-mail) runs beside the server and stops with it
	@ANKIETA_BASE_URL=http://$(HOST):$(PORT) $(BIN)/ankieta worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/ankieta run --host $(HOST) --port $(PORT)

test: install test-deps
	$(BIN)/pytest -q

# Everything the tests need besides the venv; each step runs only when its result is missing
# or stale, so a second `make test` installs nothing.
test-deps: browser-deps office-deps

browser-deps: system-deps $(AXE)

office-deps: system-deps

# Without apt-get (not Debian) it says what is missing and goes on: those tests are then
# skipped, or fail under CI=true.
system-deps:
ifneq ($(MISSING_PACKAGES),)
	@if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "Not installed (no apt-get here; install them yourself): $(MISSING_PACKAGES)"; \
	else \
	  set -e; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    $(MISSING_PACKAGES); \
	fi
ifneq ($(filter dovecot-imapd,$(MISSING_PACKAGES)),)
	@# the tests start their own Dovecot; no IMAP server for the machine's accounts stays open
	-@command -v systemctl >/dev/null 2>&1 && $(SUDO) systemctl disable --now dovecot.service \
	  dovecot.socket >/dev/null 2>&1 || true
endif
endif

# npm ci again when the lock file is newer than the installed axe-core (or it is missing)
$(AXE): tests/browser/package-lock.json | system-deps
	@command -v npm >/dev/null 2>&1 || { echo "npm is not installed: no axe-core"; exit 0; }; \
	  npm ci --prefix tests/browser --no-audit --no-fund && touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .mypy_cache
