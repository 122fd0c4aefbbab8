"""End-to-end tests of the `segsim` command: run, validate, inspect, exit codes, determinism.

Run by ctest (label `scenario`) with SEGSIM_BIN pointing at the built command; needs only
Debian's /usr/bin/python3 with h5py.
"""

import os
import re
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

SEGSIM = os.environ["SEGSIM_BIN"]
SOURCE = Path(os.environ["SEGSIM_SOURCE_DIR"])
QUICKSTART = SOURCE / "scenarios" / "examples" / "quickstart.yaml"
BAD = SOURCE / "tests" / "scenarios" / "data"


def segsim(*args, cwd=None):
    return subprocess.run([SEGSIM, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


def datasets(path):
    """Every dataset outside /meta/wall, as {path: numpy array}, plus /meta's attributes."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not name.startswith("meta/wall"):
                out[name] = obj[()]
        f.visititems(visit)
        out["meta attributes"] = {k: f["meta"].attrs[k] for k in f["meta"].attrs}
    return out


@pytest.fixture(scope="module")
def quickstart_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs")
    results = {}
    for name, extra in (("a", []), ("b", []), ("seed7", ["--seed", "7"])):
        out = d / f"{name}.h5"
        r = segsim("run", QUICKSTART, "-o", out, "--quiet", *extra)
        assert r.returncode == 0, r.stderr
        results[name] = out
    return results


def test_run_prints_summary_and_result_path(tmp_path):
    out = tmp_path / "q.h5"
    r = segsim("run", QUICKSTART, "-o", out)
    assert r.returncode == 0, r.stderr
    assert f"result: {out}" in r.stdout
    assert re.search(r"flows\s+\d+ started, \d+ completed", r.stdout)
    assert out.exists()
    assert not list(tmp_path.glob("*.tmp-*"))


def test_same_seed_gives_identical_datasets(quickstart_runs):
    a, b = datasets(quickstart_runs["a"]), datasets(quickstart_runs["b"])
    assert a.keys() == b.keys()
    for key in a:
        if key == "meta attributes":
            assert a[key] == b[key]
        else:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_h5diff_sees_no_difference_outside_wall(quickstart_runs):
    r = subprocess.run(["h5diff", "--exclude-path", "/meta/wall", quickstart_runs["a"], quickstart_runs["b"]],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_different_seed_changes_random_outputs(quickstart_runs):
    a, c = datasets(quickstart_runs["a"]), datasets(quickstart_runs["seed7"])
    assert a["meta attributes"]["seed"] == 1 and c["meta attributes"]["seed"] == 7
    assert not np.array_equal(a["flows/size"], c["flows/size"]) or not np.array_equal(
        a["flows/start_ns"], c["flows/start_ns"])


def test_result_holds_every_table_with_units(quickstart_runs):
    with h5py.File(quickstart_runs["a"], "r") as f:
        for table in ("flows", "drops", "rules", "summary", "hosts", "vms", "links",
                      "series/hosts", "series/cores", "series/links", "latency/percentiles", "latency/histogram"):
            assert table in f, table
            for column in f[table].values():
                assert column.attrs["units"], f"{table}/{column.name} has no units"
        summary = f["summary"]
        assert summary["flows_started"][0] == len(f["flows/flow_id"])
        # The policy denies the all-to-all background traffic: dfw drops some of it.
        drops = dict(zip((x.decode() for x in f["drops/reason"][()]), f["drops/packets"][()]))
        assert drops["default_drop"] + drops["rule_drop"] > 0
        # Every allowed flow's rule hits are counted on the rule that allowed it.
        rules = [x.decode() for x in f["rules/policy_rule"][()]]
        hits = dict()
        for name, h in zip(rules, f["rules/hits"][()]):
            hits[name] = hits.get(name, 0) + h
        assert hits["web-to-app"] > 0 and hits["app-to-db"] > 0
        # Invariant 1 in every run: each allowed new flow checked against its port's version.
        inv = dict(zip((x.decode() for x in f["invariants/name"][()]),
                       zip(f["invariants/checked"][()], f["invariants/violations"][()])))
        assert inv["allowed_by_enforced_version"][0] > 0 and inv["allowed_by_enforced_version"][1] == 0
        assert summary["invariant_violations"][0] == 0


def test_validate_ok():
    r = segsim("validate", QUICKSTART)
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


BAD_CASES = {
    "syntax_error.yaml": "",
    "wrong_unit.yaml": "",
    "negative_bandwidth.yaml": "rate",
    "unknown_host_timeline.yaml": "timeline",
    "duplicate_vm.yaml": "vms",
    "duplicate_ip.yaml": "ip",
    "unknown_key.yaml": "did you mean",
    "unreadable_file.yaml": "",
}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_input_exits_2_with_location_and_no_result(tmp_path, name):
    out = tmp_path / "never.h5"
    r = segsim("run", BAD / name, "-o", out)
    assert r.returncode == 2, r.stdout + r.stderr
    first_error = next(line for line in r.stderr.splitlines() if "error" in line)
    assert re.match(rf".*{re.escape(name)}:\d+:\d+: error: ", first_error) or "--set" in first_error or \
        re.match(r".*:\d+:\d+: error: |.*: error: ", first_error), first_error
    assert BAD_CASES[name].lower() in r.stderr.lower()
    assert not out.exists()
    assert not list(tmp_path.iterdir())


def test_missing_scenario_file(tmp_path):
    r = segsim("run", tmp_path / "nope.yaml", "-o", tmp_path / "x.h5")
    assert r.returncode == 2
    assert "nope.yaml" in r.stderr
    assert not (tmp_path / "x.h5").exists()


def test_bad_override_is_rejected(tmp_path):
    r = segsim("run", QUICKSTART, "--set", "topology.fabric.leavez=3", "-o", tmp_path / "x.h5")
    assert r.returncode == 2
    assert "leavez" in r.stderr
    assert not (tmp_path / "x.h5").exists()


def test_override_changes_the_run(tmp_path):
    out = tmp_path / "short.h5"
    r = segsim("run", QUICKSTART, "--set", "duration=100ms", "-o", out, "--quiet")
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        assert f["summary/simulated_ns"][0] == 100_000_000


def test_inspect(quickstart_runs, tmp_path):
    r = segsim("inspect", quickstart_runs["a"])
    assert r.returncode == 0, r.stderr
    assert "/flows" in r.stdout and "quickstart" in r.stdout
    not_h5 = tmp_path / "x.h5"
    not_h5.write_text("hello")
    r = segsim("inspect", not_h5)
    assert r.returncode == 2
    assert "x.h5" in r.stderr


def test_unknown_command_and_usage():
    assert segsim("frobnicate").returncode == 2
    assert segsim("run").returncode == 2
    assert segsim("--help").returncode == 0


def test_calibrate_writes_a_file_runs_can_use(tmp_path):
    calibration = tmp_path / "cal.yaml"
    r = segsim("calibrate", "-o", calibration, "--rules", "10,100", "--flows", "500", "--sweeps", "1",
               "--repetitions", "1", "--quiet")
    assert r.returncode == 0, r.stderr
    text = calibration.read_text()
    assert "coefficients:" in text and "machine:" in text and "per_hash_probe" in text
    out = tmp_path / "q.h5"
    r = segsim("run", QUICKSTART, "--set", "duration=50ms", "--calibration", calibration, "-o", out, "--quiet")
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        assert f["meta"].attrs["calibration_path"] == str(calibration)


def test_calibrate_rejects_bad_sweep(tmp_path):
    r = segsim("calibrate", "-o", tmp_path / "c.yaml", "--rules", "10,abc")
    assert r.returncode == 2
    assert "abc" in r.stderr
    assert not (tmp_path / "c.yaml").exists()


def test_run_with_unreadable_calibration_is_bad_input(tmp_path):
    r = segsim("run", QUICKSTART, "--calibration", tmp_path / "missing.yaml", "-o", tmp_path / "q.h5")
    assert r.returncode == 2
    assert "missing.yaml" in r.stderr
    assert not (tmp_path / "q.h5").exists()


# Trace replay (pcap, flow log): the bundled scenarios and malformed traces.
PCAP_REPLAY = SOURCE / "scenarios" / "examples" / "pcap-replay.yaml"
FLOWLOG_REPLAY = SOURCE / "scenarios" / "examples" / "flowlog-replay.yaml"


def test_pcap_replay_scenario_writes_flows_and_replay_table(tmp_path):
    out = tmp_path / "pcap.h5"
    r = segsim("run", PCAP_REPLAY, "-o", out, "--quiet")
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        replay = {c: f["replay"][c][()] for c in f["replay"]}
        flows = {c: f["flows"][c][()] for c in f["flows"]}
        drops = {c: f["drops"][c][()] for c in f["drops"]}
    # Three sources; the nmap capture looped twice; its ARP frames skipped, not replayed.
    assert list(replay["records_read"]) == [263, 2 * 547, 136]
    assert replay["loops_completed"][1] == 2
    assert replay["skipped_non_ip"][1] > 0
    assert all(replay["packets_replayed"] > 0)
    assert len(flows["flow_id"]) > 0
    outcomes = {o.decode() for o in flows["outcome"]}
    assert "completed" in outcomes and "failed_timeout" in outcomes
    # The scanner's packets are dropped by the emergency rule.
    rule_drops = dict(zip([x.decode() for x in drops["reason"]], drops["packets"]))
    assert rule_drops["rule_drop"] > 0


def test_flowlog_replay_scenario_runs(tmp_path):
    out = tmp_path / "flowlog.h5"
    r = segsim("run", FLOWLOG_REPLAY, "-o", out, "--quiet")
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        assert f["replay"]["skipped_nodata"][0] == 1
        assert f["replay"]["records_read"][0] == 5
        reasons = [x.decode() for x in f["flows"]["reason"][()]]
    assert "all_packets_delivered" in reasons and "packets_lost" in reasons


def test_truncated_pcap_exits_2_without_result(tmp_path):
    data = (SOURCE / "scenarios" / "data" / "pcaps" / "var-services-std-ports.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "cut.h5"
    r = segsim("run", PCAP_REPLAY, "-o", out, "--quiet", "--set", f"traffic.0.file={cut}")
    assert r.returncode == 2, r.stdout + r.stderr
    assert re.search(r"traffic\.0\.file: .*cut\.pcap: record \d+: ", r.stderr), r.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("*.tmp-*"))
    # With skip_bad_records the run completes and counts the record.
    r = segsim("run", PCAP_REPLAY, "-o", out, "--quiet", "--set", f"traffic.0.file={cut}",
               "--set", "traffic.0.skip_bad_records=true")
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        assert f["replay"]["skipped_bad_record"][0] == 1


def test_pcapng_replays_like_pcap(tmp_path):
    """libpcap reads pcapng too: the same capture converted gives the same replay."""
    import shutil
    editcap = shutil.which("editcap")
    if editcap is None:
        pytest.skip("editcap (tshark) not installed")
    ng = tmp_path / "nmap.pcapng"
    subprocess.run([editcap, "-F", "pcapng", SOURCE / "scenarios" / "data" / "pcaps" / "nmap-vsn.pcap", ng], check=True)
    counts = []
    for name, extra in (("pcap", []), ("pcapng", ["--set", f"traffic.1.file={ng}"])):
        out = tmp_path / f"{name}.h5"
        r = segsim("run", PCAP_REPLAY, "-o", out, "--quiet", *extra)
        assert r.returncode == 0, r.stderr
        with h5py.File(out, "r") as f:
            counts.append(list(f["replay"]["packets_replayed"][()]))
    assert counts[0] == counts[1]


def test_fail_host_from_the_command_line_runs_and_is_recorded(tmp_path):
    """fail_host used to be refused as not implemented; now it runs and leaves a /failures row."""
    out = tmp_path / "q.h5"
    r = segsim("run", QUICKSTART, "--set", "duration=50ms",
               "--set", "timeline=[{at: 10ms, action: fail_host, host: h0}]", "-o", out)
    assert r.returncode == 0, r.stdout + r.stderr
    with h5py.File(out, "r") as f:
        assert [k.decode() if isinstance(k, bytes) else k for k in f["failures/kind"][()]] == ["host_crash"]
        assert list(f["failures/start_ns"][()]) == [10_000_000]
        assert list(f["failures/end_ns"][()]) == [-1]


def test_fail_host_of_an_unknown_host_is_refused(tmp_path):
    out = tmp_path / "q.h5"
    r = segsim("run", QUICKSTART, "--set", "timeline=[{at: 10ms, action: fail_host, host: h9}]", "-o", out)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "unknown host 'h9'" in r.stderr
    assert not out.exists()
