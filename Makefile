# make run   : set up the environment, run the six notebooks (full profile) and render them as HTML in reports/
# make test  : unit tests + the notebooks under nbval (quick profile; the committed notebooks are not modified)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PROFILE ?= full

.PHONY: setup run test unit nbval clean-quick

setup: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: setup
	$(PY) run_study.py --profile $(PROFILE)

unit: setup
	$(PY) -m pytest tests

nbval: setup
	SSL_PROFILE=quick $(PY) -m pytest --nbval-lax --nbval-cell-timeout=900 -p no:cacheprovider notebooks

test: setup
	SSL_PROFILE=quick $(PY) -m pytest tests --nbval-lax --nbval-cell-timeout=900 notebooks

clean-quick:
	rm -rf artefacts/quick
