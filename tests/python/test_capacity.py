"""Capacity planning end to end: a real `segsim sweep` of scenarios/examples/capacity.yaml over VMs
per host (and a small rule-set sweep), the sustained busiest-core utilization growing with the VMs,
and the report's ceiling table checked against a ceiling computed here from the index's own
numbers; the report rendered by headless Chromium."""

import re
import subprocess
import sys

import h5py
import numpy as np
import pytest

import segsim
from conftest import SOURCE, segsim_bin
from test_report import chromium, console_messages

CAPACITY = SOURCE / "scenarios" / "examples" / "capacity.yaml"
VMS = "topology.hosts.vms_per_host"
RULES = "policy.filler_rules"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    directory = tmp_path_factory.mktemp("capacity")
    return segsim.Sweep.run(CAPACITY, {VMS: [4, 8, 16], RULES: [0, 1000]}, output_dir=directory / "out", jobs=2,
                            overrides=["duration=30ms"], segsim=segsim_bin(), check=True)


def test_sustained_busiest_core_grows_with_vms_per_host(sweep):
    points = sweep.points()
    assert (points["status"] == "ok").all()
    for rules, group in points.groupby(RULES):
        group = group.sort_values(VMS)
        sustained = group["busiest_core_mean_utilization"].tolist()
        assert all(a < b for a, b in zip(sustained, sustained[1:])), (rules, sustained)
        # Sustained load never exceeds the peak over one sample interval.
        assert (group["busiest_core_mean_utilization"] <= group["peak_core_utilization"] + 1e-12).all()
    # The summary column is the busy time of the busiest core over the run, from the core series.
    results = sweep.results(int(points["point"].iloc[-1]))
    cores = results.core_series()
    last = cores[cores["time_ns"] == cores["time_ns"].max()]
    expected = (last["busy_ns"] / last["time_ns"]).max()
    assert results.summary()["busiest_core_mean_utilization"] == pytest.approx(expected, rel=1e-12)


def test_filler_rules_reach_every_port_and_load_scales_with_vms(sweep):
    points = sweep.points().set_index([VMS, RULES])
    for vms in (4, 8, 16):
        plain = sweep.results(int(points.loc[(vms, 0), "point"])).rules()
        padded = sweep.results(int(points.loc[(vms, 1000), "point"])).rules()
        # Every VM's port holds the 1,000 filler rules on top of its own, twice: as a destination
        # (to: every workload) and as a source (from: any includes the VM itself).
        per_vm = padded.groupby("vm").size() - plain.groupby("vm").size()
        assert len(per_vm) == 4 * vms and (per_vm == 2 * 1000).all()
    # load_per_vm: twice the VMs, about twice the packets (Poisson arrivals: within 35%).
    ratio = points.loc[(16, 0), "packets_from_vms"] / points.loc[(8, 0), "packets_from_vms"]
    assert 1.3 < ratio < 2.7, ratio


def independent_ceiling(points, cpu_target, p99_target_ns, rules):
    """Largest vms_per_host whose every smaller value also meets both targets, from raw index rows."""
    ceiling = None
    for _, row in points[points[RULES] == rules].sort_values(VMS).iterrows():
        if row["busiest_core_mean_utilization"] > cpu_target or row["latency_p99_ns"] > p99_target_ns:
            return ceiling, row[VMS]
        ceiling = row[VMS]
    return ceiling, None


def test_report_ceiling_table_matches_the_index_and_renders(sweep, tmp_path, artifact_dir):
    with h5py.File(sweep.path) as f:
        points_table = f["points"]
        index = {c: (points_table[c].asstr()[()] if points_table[c].dtype.kind == "O" else points_table[c][()])
                 for c in points_table}
    import pandas as pd
    points = pd.DataFrame(index)
    points[VMS] = points[VMS].astype(int)
    points[RULES] = points[RULES].astype(int)
    # A CPU target between the 8- and 16-VM points (without filler rules): the ceiling is 8 there.
    light = points[points[RULES] == 0].set_index(VMS)["busiest_core_mean_utilization"]
    target = float((light[8] + light[16]) / 2)
    p99_target_ns = 10**9
    out = tmp_path / "capacity.html"
    r = subprocess.run([sys.executable, "-m", "segsim.report", sweep.path, "-o", str(out), "--cpu-target",
                        f"{target:.9f}", "--p99-target", "1s"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    section = html[html.index('<section id="ceilings">'):html.index('<section id="curves">')]
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", section, re.S)]
    rows = [row for row in rows if row]
    by_with = {row[1]: row for row in rows if row[0] == VMS}
    for rules in (0, 1000):
        ceiling, first_over = independent_ceiling(points, float(f"{target:.9f}"), p99_target_ns, rules)
        row = by_with[f"{RULES}={rules}"]
        assert row[2] == ("none (the smallest value fails)" if ceiling is None else str(ceiling))
        assert row[3] == ("–" if first_over is None else str(first_over))
    assert by_with[f"{RULES}=0"][2] == "8"
    assert by_with[f"{RULES}=0"][4].startswith("busiest core")
    assert html.count("<svg") == 2  # one figure per swept parameter

    rendered = chromium("--dump-dom", out.as_uri())
    assert rendered.returncode == 0 and console_messages(rendered.stderr) == []
    for name in ("ceilings", "curves", "points"):
        assert f'<section id="{name}">' in rendered.stdout
    screenshot = artifact_dir / "report-capacity.png"
    assert chromium(f"--screenshot={screenshot}", "--window-size=1200,1600", out.as_uri()).returncode == 0
    assert screenshot.stat().st_size > 10_000


def test_vms_per_host_and_filler_rules_are_real_scenario_keys():
    s = segsim.Scenario.load(str(CAPACITY), overrides=[f"{VMS}=6", f"{RULES}=50"])
    assert len(s.vms) == 4 * 6
    assert [vm for vm in s.vms if vm.startswith("web-")] == [f"web-{i}" for i in range(12)]
    with pytest.raises(segsim.ScenarioError, match=r"load_per_vm.*alternatives"):
        s.set("traffic.0.load", 0.2)
    with pytest.raises(segsim.ScenarioError, match=r"filler_rules"):
        s.set(RULES, 70000)
