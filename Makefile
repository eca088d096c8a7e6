# Cadenza: `make demo` sets up and runs the main job on the embedded default; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SOUNDFONT := /usr/share/sounds/sf2/FluidR3_GM.sf2
DEMO_ADDR ?= 127.0.0.1:8000

.PHONY: demo test setup system-deps lint bench serve clean

demo: setup ## set up, migrate, compose the demo listener's first playlist, serve on :8000
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py demo --addr $(DEMO_ADDR)
	$(PY) manage.py runserver $(DEMO_ADDR)

test: setup ## set up, then the whole suite (PostgreSQL when DATABASE_URL is set)
	$(PY) -m pytest

setup: system-deps $(STAMP) var/dev-certs/signer.pem

system-deps: ## Debian packages the audio pipeline (and the browser tests) need, installed when missing
	@missing=""; \
	command -v fluidsynth >/dev/null || missing="$$missing fluidsynth"; \
	[ -f $(SOUNDFONT) ] || missing="$$missing fluid-soundfont-gm"; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	ldconfig -p | grep -q 'libfluidsynth.so.3' || missing="$$missing libfluidsynth3"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# torch first: 2.13.0 is a CPU wheel on local disk; any other request may pull a CUDA build.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,eval]'
	touch $@

# A development C2PA signing chain (CA + leaf), made once when none is configured.
var/dev-certs/signer.pem: | $(STAMP)
	$(PY) -m generation.provenance.devcerts var/dev-certs

lint: setup
	$(VENV)/bin/ruff check .

bench: setup ## the benchmark commands named in the issues (JSON on stdout)
	$(PY) manage.py bench_events --json
	$(PY) manage.py bench_pipeline --json
	$(PY) manage.py evaluate_model --json

clean:
	rm -rf var/cadenza.sqlite3* var/media var/test-media
