# The two commands of the README: `make demo` and `make test`. Each builds its own environment.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Extras the tests and the demo exercise on a CPU-only machine.
# SKIP_FREE_THREADED=1 skips building and testing under free-threaded CPython.
EXTRAS ?= test,numpy,numba,docs,dask
# The ML backends for CPU-only machines: torch pinned to its CPU wheel (an unpinned torch pulls GBs
# of CUDA), tensorflow-cpu, and cupy-cuda12x, which imports without a GPU and reports none.
CPU_BACKENDS ?= torch==2.13.0 tensorflow-cpu cupy-cuda12x

.PHONY: demo test bench clean

$(VENV)/.installed: pyproject.toml setup.py kernels/cext.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip "setuptools>=68" wheel
	$(PY) -m pip install -q -e ".[$(EXTRAS)]" $(CPU_BACKENDS)
	touch $@

demo: $(VENV)/.installed
	@echo "== gilsafe lint examples/  (findings are expected: half the examples are racy on purpose)"
	-$(VENV)/bin/gilsafe lint --no-cache examples/
	@echo
	@echo "== gilsafe probe: does a NumPy call release the GIL? (the data GS301-GS303 cite)"
	-$(VENV)/bin/gilsafe probe numpy.add --sizes 10,1000000
	-$(VENV)/bin/gilsafe probe numpy.count_nonzero --sizes 1000000
	@echo
	@echo "== gilsafe stress: the talk's race and speed experiments, briefly"
	-$(VENV)/bin/gilsafe stress --backend python,numpy,numba,cext --threads 1,2 --experiment E2,E3,E4,E12 --trials 20 --time-budget 120 --json gilsafe-stress.json
	@echo
	@echo "== gilsafe report: findings and stress results as HTML"
	$(VENV)/bin/gilsafe report --lint examples --stress gilsafe-stress.json -o gilsafe-report
	@echo
	@echo "gilsafe is installed in $(VENV)/: run 'source $(VENV)/bin/activate' to type gilsafe commands, or call $(VENV)/bin/gilsafe"

test: $(VENV)/.installed
	$(PY) -m pytest -q
	GILSAFE_SKIP_FREE_THREADED=$(SKIP_FREE_THREADED) bash scripts/free-threaded-tier

# threadcheck (the corpus comparison) needs Python 3.12+; skipped with a note when none is found.
THREADCHECK_PYTHON ?= $(shell command -v python3.12 || command -v python3.13)

bench: $(VENV)/.installed
	$(PY) -m pip install -q fixit  # the lint benchmark's throughput comparison
	-test -z "$(THREADCHECK_PYTHON)" || test -x .venv-threadcheck/bin/threadcheck || \
		($(THREADCHECK_PYTHON) -m venv .venv-threadcheck && .venv-threadcheck/bin/pip install -q threadcheck)
	$(PY) benchmarks/lint.py
	$(PY) benchmarks/stress.py

clean:
	rm -rf $(VENV) .venv-threadcheck build dist *.egg-info .gilsafe_cache .pytest_cache gilsafe-report gilsafe-stress.json docs/_build
