# Two commands on a fresh machine: `make run` (the default board's demo) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint firmware firmware-check toolchains bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hsmemu run --board aurix-tc3xx

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# Cross compilers from Debian's packages (needed only to rebuild the C demo firmware).
toolchains:
	tools/install_toolchains.sh

# Rebuild the committed prebuilt ELFs; `firmware-check` verifies a rebuild is byte-identical.
firmware: $(STAMP)
	$(PY) tools/build_tricore_firmware.py
	tools/build_c_firmware.sh

firmware-check: $(STAMP)
	$(PY) tools/build_tricore_firmware.py --check
	tools/build_c_firmware.sh --check

bench: $(STAMP)
	$(PY) tools/bench_soc.py
	$(PY) tools/bench_server.py
	$(PY) tools/bench_crypto.py
	$(PY) tools/bench_nvm.py

# The benchmarks in a bounded form (CI): same figures, shorter runs.
bench-quick: $(STAMP)
	$(PY) tools/bench_soc.py --quick
	$(PY) tools/bench_server.py --quick
	$(PY) tools/bench_crypto.py --quick
	$(PY) tools/bench_nvm.py --quick

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
