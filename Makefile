# make setup     : the virtual environment (.venv): the pinned packages, then this project in editable mode
# make run       : run the six notebooks (full profile; fits from the fit cache where they are), publish them and
#                  their HTML (reports/) only when all succeed. FRESH=1 recomputes every fit; JOBS=N fits at once;
#                  DATASET=fashion: Fashion-MNIST instead of MNIST (its own folders: artefacts/fashion/, reports/fashion/)
# make unit      : the unit tests alone (`pytest -m "not slow"`: no notebook, runner or profile run)
# make lint      : the layers' import contracts of pyproject.toml (`lint-imports`; tests/test_layers.py runs it too)
# make test      : unit tests + the notebooks under nbval (quick profile; the committed notebooks are not modified), in
#                  two pytest-xdist workers: the runs of the project's own quick profile in one, in order
# make test-jax  : the model tests and the notebooks (quick profile) again with KERAS_BACKEND=jax
# make verify    : recompute a stratified sample of the committed fits on this machine and compare them with the
#                  committed ones (a table and one sentence; about 5 minutes with two jobs). FITS=2: CI's short one.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# the profile of `make run`: $SSL_PROFILE where set (`SSL_PROFILE=quick make run`), else full
PROFILE ?= $(or $(SSL_PROFILE),full)

.PHONY: setup setup-jax run test test-jax unit lint nbval verify clean-quick

setup: $(VENV)/.installed
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $@

setup-jax: $(VENV)/.installed-jax
$(VENV)/.installed-jax: requirements-jax.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-jax.txt
	touch $@

run: setup
	$(PY) run_study.py --profile $(PROFILE) $(if $(DATASET),--dataset $(DATASET)) $(if $(FRESH),--fresh) $(if $(JOBS),--jobs $(JOBS))

unit: setup
	$(PY) -m pytest -m "not slow" tests

lint: setup
	$(VENV)/bin/lint-imports

nbval: setup
	SSL_PROFILE=quick $(PY) -m pytest --nbval-lax --nbval-cell-timeout=900 -p no:cacheprovider notebooks

test: setup
	SSL_PROFILE=quick $(PY) -m pytest -n 2 tests --nbval-lax --nbval-cell-timeout=900 notebooks

test-jax: setup-jax
	KERAS_BACKEND=jax SSL_PROFILE=quick $(PY) -m pytest tests/test_models.py tests/test_pretexts.py --nbval-lax --nbval-cell-timeout=900 \
		-p no:cacheprovider notebooks

verify: setup
	$(PY) -m ssl_study.run.verify $(if $(FITS),--fits $(FITS)) --jobs $(or $(JOBS),2)

clean-quick:
	rm -rf artefacts/quick
