"""Sweeps from Python: the ceiling computation on known grids, then a real `segsim sweep` of the
quickstart read with segsim.Sweep and turned into a report that Chromium renders."""

import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import segsim
from conftest import QUICKSTART, segsim_bin
from segsim.report_sweep import ceilings
from test_report import chromium, console_messages

US = 1_000
MS = 1_000_000


def options(cpu=0.8, p99=1 * MS):
    return SimpleNamespace(cpu_target=cpu, p99_target_ns=p99)


def grid(vms, cpu, p99, status=None, **others):
    df = pd.DataFrame({"vms": vms, "peak_core_utilization": cpu, "latency_p99_ns": p99,
                       "status": status or ["ok"] * len(vms), **others})
    return df.sample(frac=1, random_state=1)  # ceilings must not depend on row order


def test_ceiling_is_the_last_value_before_a_target_is_missed():
    points = grid([10, 20, 40, 80], [0.2, 0.5, 0.85, 0.95], [100 * US, 200 * US, 500 * US, 2 * MS])
    row = ceilings(points, ["vms"], options()).iloc[0]
    assert (row["ceiling"], row["first_value_over"]) == (20, 40)
    assert row["limited_by"] == "busiest core 85.0% > 80.0%"
    row = ceilings(points, ["vms"], options(cpu=0.9)).iloc[0]
    assert (row["ceiling"], row["first_value_over"]) == (40, 80)
    assert row["limited_by"] == "busiest core 95.0% > 90.0%; p99 2 ms > 1 ms"
    row = ceilings(points, ["vms"], options(cpu=1.0, p99=300 * US)).iloc[0]
    assert (row["ceiling"], row["first_value_over"]) == (20, 40)
    assert row["limited_by"] == "p99 500 us > 300 us"


def test_ceiling_not_reached_and_failed_points():
    points = grid([10, 20], [0.1, 0.2], [1 * US, 2 * US])
    row = ceilings(points, ["vms"], options()).iloc[0]
    assert (row["ceiling"], row["first_value_over"], row["limited_by"]) == (20, "–", "not reached in the sweep")
    failed = grid([10, 20, 40], [0.1, np.nan, 0.2], [1 * US, np.nan, 2 * US], status=["ok", "failed", "ok"])
    row = ceilings(failed, ["vms"], options()).iloc[0]
    assert (row["ceiling"], row["first_value_over"], row["limited_by"]) == (10, 20, "run failed")
    over_at_once = grid([10], [0.9], [1 * US])
    assert ceilings(over_at_once, ["vms"], options()).iloc[0]["ceiling"] == "none (the smallest value fails)"


def test_ceilings_per_combination_of_the_other_parameters():
    points = grid([10, 20, 10, 20], [0.3, 0.6, 0.7, 0.9], [1 * US] * 4, rules=[100, 100, 1000, 1000])
    table = ceilings(points, ["vms", "rules"], options())
    by_vms = table[table["parameter"] == "vms"].set_index("with")["ceiling"].to_dict()
    assert by_vms == {"rules=100": 20, "rules=1000": 10}
    by_rules = table[table["parameter"] == "rules"].set_index("with")["ceiling"].to_dict()
    assert by_rules == {"vms=10": 1000, "vms=20": 100}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sweep")
    return segsim.Sweep.run(QUICKSTART, {"traffic.0.load": [0.05, 0.6]}, output_dir=directory / "out", jobs=2,
                            overrides=["duration=40ms"], segsim=segsim_bin(), check=True)


def test_sweep_run_from_python(sweep):
    points = sweep.points()
    assert sweep.parameters() == ["traffic.0.load"]
    assert points["traffic.0.load"].tolist() == [0.05, 0.6]
    assert (points["status"] == "ok").all()
    for point in points["point"]:
        results = sweep.results(point)
        summary = results.summary()
        assert summary["simulated_ns"] == 40 * MS
        row = points[points["point"] == point].iloc[0]
        assert row["peak_core_utilization"] == pytest.approx(summary["peak_core_utilization"])
    # More web->app load, more packets.
    assert points["packets_from_vms"].iloc[1] > points["packets_from_vms"].iloc[0]


def test_sweep_report_renders_with_a_ceiling_table(sweep, tmp_path, artifact_dir):
    points = sweep.points()
    # A CPU target between the two points' busiest cores: the ceiling is the lighter load.
    low, high = sorted(points["busiest_core_mean_utilization"])
    assert low < high
    target = (low + high) / 2
    out = tmp_path / "sweep.html"
    r = subprocess.run([sys.executable, "-m", "segsim.report", sweep.path, "-o", str(out), "--cpu-target",
                        f"{target:.6f}", "--p99-target", "1s"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    ceilings_section = html[html.index('<section id="ceilings">'):html.index('<section id="curves">')]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", ceilings_section)
    assert cells[:4] == ["traffic.0.load", "–", "0.05", "0.6"]
    assert cells[4].startswith("busiest core")
    assert html.count("<svg") == 1

    rendered = chromium("--dump-dom", out.as_uri())
    assert rendered.returncode == 0 and console_messages(rendered.stderr) == []
    for section in ("ceilings", "curves", "points"):
        assert f'<section id="{section}">' in rendered.stdout
    screenshot = artifact_dir / "report-sweep.png"
    assert chromium(f"--screenshot={screenshot}", "--window-size=1200,1600", out.as_uri()).returncode == 0
    assert screenshot.stat().st_size > 10_000
