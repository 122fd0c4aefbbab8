"""End-to-end tests of `segsim compare`: an unchanged run passes, a more permissive policy and a
slower firewall are caught as regressions, the JUnit XML is what CI systems read, and bad input
exits 2.

Run by ctest (label `scenario`) with SEGSIM_BIN pointing at the built command; needs only
Debian's /usr/bin/python3.
"""

import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SEGSIM = os.environ["SEGSIM_BIN"]
SOURCE = Path(os.environ["SEGSIM_SOURCE_DIR"])
QUICKSTART = SOURCE / "scenarios" / "examples" / "quickstart.yaml"
DEFAULT_CALIBRATION = SOURCE / "models" / "host" / "calibration" / "default.yaml"
SHORT = ["--set", "duration=200ms"]


def segsim(*args):
    return subprocess.run([SEGSIM, *map(str, args)], capture_output=True, text=True, timeout=600)


def run_quickstart(out, *extra):
    r = segsim("run", QUICKSTART, "-o", out, "--quiet", *SHORT, *extra)
    assert r.returncode == 0, r.stderr
    return out


def slower_calibration(path, factor):
    """The bundled calibration with every cycle coefficient multiplied: a slower dfw build."""
    lines = []
    in_coefficients = False
    for line in DEFAULT_CALIBRATION.read_text().splitlines():
        if line.startswith("coefficients:"):
            in_coefficients = True
        elif in_coefficients and re.match(r"^\s+\w+: [0-9.]+$", line):
            key, value = line.split(":")
            line = f"{key}: {float(value) * factor}"
        elif not line.startswith(" "):
            in_coefficients = False
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("compare")
    return {
        "base": run_quickstart(d / "base.h5"),
        "same": run_quickstart(d / "same.h5"),
        # Allowing what the policy used to drop by default: the background traffic gets through.
        "permissive": run_quickstart(d / "permissive.h5", "--set", "policy.default_action=allow"),
        "slow": run_quickstart(d / "slow.h5", "--calibration", slower_calibration(d / "slow.yaml", 2.0)),
        "dir": d,
    }


def rows(stdout):
    """The summary table as {metric: (base, new, status)}."""
    table = {}
    for line in stdout.splitlines():
        m = re.match(r"^(\w\S*)\s{2,}\S+\s{2,}(\S+)\s{2,}(\S+)\s.*?\s{2,}(ok|improved|REGRESSION|only in base|"
                     r"only in new|not present in either.*|ignored)$", line)
        if m:
            table[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    return table


def junit(path):
    root = ET.parse(path).getroot()
    cases = {}
    for case in root.iter("testcase"):
        failure = case.find("failure")
        skipped = case.find("skipped")
        cases[case.get("name")] = ("failure" if failure is not None else "skipped" if skipped is not None else "pass",
                                   failure.get("message") if failure is not None else "")
    return root, cases


def test_unchanged_run_passes(runs):
    r = segsim("compare", runs["base"], runs["same"], "--junit", runs["dir"] / "same.xml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.rstrip().endswith("within budget")
    table = rows(r.stdout)
    for metric in ("verdicts.allowed", "verdicts.denied", "verdicts.newly_allowed", "flows.completed",
                   "drops.dfw.default_drop", "latency.all.p99_ns", "firewall.cycles_per_packet"):
        assert table[metric][2] == "ok", (metric, table.get(metric))
        assert table[metric][0] == table[metric][1], metric
    # The quickstart policy denies the background traffic: there are denials to compare.
    assert int(table["verdicts.denied"][0]) > 0 and int(table["verdicts.allowed"][0]) > 0
    assert table["migrations.downtime_ns.max"][2].startswith("not present in either")
    root, cases = junit(runs["dir"] / "same.xml")
    assert not [name for name, (kind, _) in cases.items() if kind == "failure"]
    assert cases["migrations.downtime_ns.max"][0] == "skipped"


def test_more_permissive_policy_is_caught(runs):
    xml = runs["dir"] / "permissive.xml"
    r = segsim("compare", runs["base"], runs["permissive"], "--junit", xml)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.rstrip().endswith("REGRESSION")
    table = rows(r.stdout)
    assert table["verdicts.newly_allowed"][2] == "REGRESSION"
    assert int(table["verdicts.newly_allowed"][1]) > 0
    assert table["verdicts.newly_denied"][1] == "0"
    assert table["verdicts.allowed"][2] == "REGRESSION" and table["verdicts.denied"][2] == "REGRESSION"
    assert int(table["verdicts.denied"][1]) < int(table["verdicts.denied"][0])
    # The changed flows are named: background traffic on port 9000, denied before.
    assert re.search(r"tcp 10\.0\.\d+\.\d+:\d+ -> 10\.0\.\d+\.\d+:9000 started at [0-9.]+ ms: denied "
                     r"\(syn_retries_exhausted\) -> allowed", r.stdout), r.stdout
    _, cases = junit(xml)
    assert cases["verdicts.newly_allowed"][0] == "failure"
    assert "base 0, new " in cases["verdicts.newly_allowed"][1] and "limit <= 0" in cases["verdicts.newly_allowed"][1]
    # Fewer default_drop drops is not by itself a failure: it shows as an improvement.
    assert table["drops.dfw.default_drop"][2] == "improved"


def test_slower_firewall_is_caught_on_cycles_per_packet(runs):
    xml = runs["dir"] / "slow.xml"
    r = segsim("compare", runs["base"], runs["slow"], "--junit", xml)
    assert r.returncode == 1, r.stdout + r.stderr
    table = rows(r.stdout)
    base, new, status = table["firewall.cycles_per_packet"]
    assert status == "REGRESSION"
    # Every coefficient doubled: the cost per packet doubles.
    assert 1.9 < float(new) / float(base) < 2.1, (base, new)
    # A slower firewall decides the same: no verdict changes.
    assert table["verdicts.newly_allowed"][1] == "0" and table["verdicts.newly_denied"][1] == "0"
    _, cases = junit(xml)
    kind, message = cases["firewall.cycles_per_packet"]
    assert kind == "failure"
    assert re.match(r"firewall\.cycles_per_packet: REGRESSION: base [0-9.]+, new [0-9.]+, limit <= [0-9.]+ \(cycles\)",
                    message), message


def test_budget_file_loosens_a_metric(runs, tmp_path):
    budget = tmp_path / "budget.yaml"
    budget.write_text("metrics:\n  firewall.cycles_per_packet: {relative: 1.5}\n")
    r = segsim("compare", runs["base"], runs["slow"], "--budget", budget)
    assert r.returncode in (0, 1), r.stderr
    assert rows(r.stdout)["firewall.cycles_per_packet"][2] == "ok"


def test_junit_has_one_testcase_per_metric(runs):
    r = segsim("compare", runs["base"], runs["permissive"], "--junit", runs["dir"] / "count.xml")
    assert r.returncode == 1
    metric_count = int(re.search(r"^(\d+) metrics: ", r.stdout, re.M).group(1))
    failed_count = int(re.search(r"(\d+) failed", r.stdout).group(1))
    root, cases = junit(runs["dir"] / "count.xml")
    assert len(list(root.iter("testcase"))) == metric_count == len(cases)
    assert cases.keys() == rows(r.stdout).keys()
    suite = root.find("testsuite")
    assert int(suite.get("tests")) == metric_count
    assert int(suite.get("failures")) == failed_count == sum(kind == "failure" for kind, _ in cases.values())
    for case in root.iter("testcase"):
        assert case.get("classname") == "segsim.compare." + case.get("name").split(".")[0]


def test_print_default_budget_is_a_valid_budget(tmp_path, runs):
    r = segsim("compare", "--print-default-budget")
    assert r.returncode == 0
    assert '"latency.*": {relative: 0.05, absolute: 1000}' in r.stdout
    budget = tmp_path / "defaults.yaml"
    budget.write_text(r.stdout)
    assert segsim("compare", runs["base"], runs["same"], "--budget", budget).returncode == 0


@pytest.mark.parametrize("case", ["missing", "not_hdf5", "one_argument", "bad_budget", "unknown_family",
                                  "missing_budget", "other_scenario", "other_duration"])
def test_bad_input_exits_2_with_a_clear_message(runs, tmp_path, case):
    base = runs["base"]
    xml = tmp_path / "out.xml"
    if case == "missing":
        args, expected = [base, tmp_path / "nope.h5"], r"nope\.h5: no such file"
    elif case == "not_hdf5":
        (tmp_path / "text.h5").write_text("hello")
        args, expected = [tmp_path / "text.h5", base], r"text\.h5: not an HDF5 file"
    elif case == "one_argument":
        args, expected = [base], r"expected two result files"
    elif case == "bad_budget":
        (tmp_path / "b.yaml").write_text("metrics:\n  latency.*:\n    relative: lots\n")
        args, expected = [base, base, "--budget", tmp_path / "b.yaml"], \
            r"b\.yaml:3: metrics\.latency\.\*\.relative: expected a number >= 0, got 'lots'"
    elif case == "unknown_family":
        (tmp_path / "b.yaml").write_text("metrics:\n  latncy.*: {relative: 0.1}\n")
        args, expected = [base, base, "--budget", tmp_path / "b.yaml"], r"b\.yaml:2: .*unknown metric family 'latncy'"
    elif case == "missing_budget":
        args, expected = [base, base, "--budget", tmp_path / "none.yaml"], r"none\.yaml: cannot read"
    elif case == "other_scenario":
        other = run_quickstart(tmp_path / "other.h5", "--set", "name=other-shop")
        args, expected = [base, other], r"different scenarios \('quickstart' and 'other-shop'\)"
    else:
        other = run_quickstart(tmp_path / "other.h5", "--set", "duration=100ms")
        args, expected = [base, other], r"different simulated durations"
    r = segsim("compare", *args, "--junit", xml)
    assert r.returncode == 2, r.stdout + r.stderr
    assert re.search(r"^segsim compare: .*" + expected, r.stderr, re.M), r.stderr
    assert not xml.exists()
