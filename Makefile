# Every target creates .venv when it is missing, so a fresh clone needs only Python 3.11 and make.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Tools the tests run but radar does not ship, installed from .tools/package-lock.json.
TOOLS  := .tools
TOOLS_STAMP := $(TOOLS)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	# An editable install writes no bytecode, and with PYTHONDONTWRITEBYTECODE set nothing else
	# does: every radar start would recompile its modules (~20 ms). A wheel install has them.
	$(PY) -m compileall -q radar
	touch $(STAMP)

# Microsoft's SARIF validator (Sarif.Multitool) for the SARIF report's tests. npm 11 does not run
# the package's postinstall `chmod u+x Sarif.Multitool` unless approved, so scripts are off and
# the chmod is done here.
$(TOOLS_STAMP): $(TOOLS)/package.json $(TOOLS)/package-lock.json
	npm ci --prefix $(TOOLS) --ignore-scripts --no-audit --no-fund --loglevel=error
	chmod u+x $(TOOLS)/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
	touch $(TOOLS_STAMP)

demo: $(STAMP)
	@bash demo/run.sh

test: $(STAMP) $(TOOLS_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

# Every benchmark, each rewriting its own section of benchmarks/RESULTS.md. The scan benchmark's
# peers (betterleaks, kingfisher) are installed here, not as radar's dependencies.
bench: $(STAMP)
	$(PY) benchmarks/mask_throughput.py
	$(PY) benchmarks/mask_add_mask.py
	$(PY) benchmarks/exec_startup.py
	$(PY) benchmarks/vault_limits.py --write
	$(PY) benchmarks/vault_index.py --write
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) benchmarks/scan_benchmark.py --write
	$(PY) benchmarks/scan_history.py --write
	$(PY) benchmarks/scan_gitlab.py --write
	$(PY) benchmarks/plan_input.py --write

clean:
	rm -rf $(VENV) build *.egg-info $(TOOLS)/node_modules $(TOOLS_STAMP)
