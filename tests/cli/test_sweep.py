"""End-to-end tests of `segsim sweep`: every point of the grid runs in its own process into its
own result file, the index lists them with their parameters, status and headline numbers, a
failing point does not stop the others, bad parameters are refused before anything runs, and
Ctrl-C leaves no index and no running children.

Run by ctest (label `scenario`) with SEGSIM_BIN pointing at the built command; needs only
Debian's /usr/bin/python3 with h5py.
"""

import math
import os
import signal
import subprocess
import time
from pathlib import Path

import h5py
import pytest

SEGSIM = os.environ["SEGSIM_BIN"]
SOURCE = Path(os.environ["SEGSIM_SOURCE_DIR"])
QUICKSTART = SOURCE / "scenarios" / "examples" / "quickstart.yaml"


def segsim(*args):
    return subprocess.run([SEGSIM, *map(str, args)], capture_output=True, text=True, timeout=600)


def points_table(index):
    with h5py.File(index, "r") as f:
        assert f["meta"].attrs["kind"] == "sweep-index"
        table = {}
        for name, column in f["points"].items():
            table[name] = list(column.asstr()[()]) if column.dtype.kind == "O" else list(column[()])
        parameters = {k: v for k, v in zip(f["parameters/key"].asstr()[()], f["parameters/values"].asstr()[()])}
    return table, parameters


def test_sweep_runs_every_point_and_indexes_it(tmp_path):
    out = tmp_path / "sweep"
    r = segsim("sweep", QUICKSTART, "--param", "duration=50ms,80ms", "--param", "seed=1,2,3", "-j", "2", "-o", out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"index: {out / 'index.h5'}" in r.stdout
    table, parameters = points_table(out / "index.h5")
    assert parameters == {"duration": "50ms,80ms", "seed": "1,2,3"}
    # The Cartesian product, the last parameter varying fastest.
    assert table["point"] == list(range(6))
    assert table["duration"] == ["50ms"] * 3 + ["80ms"] * 3
    assert table["seed"] == ["1", "2", "3"] * 2
    assert table["status"] == ["ok"] * 6 and table["exit_code"] == [0] * 6 and table["error"] == [""] * 6
    for i, (duration, seed, path) in enumerate(zip(table["duration"], table["seed"], table["result_path"])):
        assert path == f"point-{i:03d}.h5"
        with h5py.File(out / path, "r") as f:
            simulated = f["summary/simulated_ns"][0]
            assert f["meta"].attrs["seed"] == int(seed)
            assert f"--set duration={duration} --set seed={seed}" in f["meta/wall"].attrs["command_line"]
            # The headline numbers are the point's own /summary.
            assert table["flows_started"][i] == f["summary/flows_started"][0]
            assert table["firewall_cycles_per_packet"][i] == f["summary/firewall_cycles_per_packet"][0]
        assert simulated == {"50ms": 50_000_000, "80ms": 80_000_000}[duration]
        assert table["simulated_ns"][i] == simulated
    assert not list(out.glob("*.tmp-*"))
    # The index is not a run: compare refuses it as bad input.
    r = segsim("compare", out / "index.h5", out / "point-000.h5")
    assert r.returncode == 2 and "a sweep index, not a run result" in r.stderr, r.stderr


def test_a_failing_point_is_reported_and_the_others_complete(tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    # A directory where point 1's result should go: that run fails when it commits its file.
    (out / "point-001.h5").mkdir()
    r = segsim("sweep", QUICKSTART, "--param", "seed=1,2,3", "--set", "duration=50ms", "-j", "2", "-o", out)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "point 1 (seed=2): failed (exit 1, " in r.stderr
    assert "3 points: 2 ok, 1 failed" in r.stdout
    table, _ = points_table(out / "index.h5")
    assert table["status"] == ["ok", "failed", "ok"]
    assert table["exit_code"][1] == 1
    assert "point-001.h5" in table["error"][1]
    assert math.isnan(table["flows_started"][1]) and table["flows_started"][0] > 0
    assert (out / "point-000.h5").is_file() and (out / "point-002.h5").is_file()
    assert (out / "point-001.log").is_file()  # the failed run's stderr is kept
    assert not (out / "point-000.log").exists()


@pytest.mark.parametrize("args, message", [
    (["--param", "topology.fabric.leavez=1,2"], "leavez"),
    (["--param", "duration=50ms,fast"], "fast"),
    (["--param", "duration"], "expected key=value1,value2"),
    (["--param", "duration=50ms,,80ms"], "empty value"),
    (["--param", "seed=1,2", "--param", "seed=3"], "given twice"),
    (["--param", "status=1,2"], "column of the index"),
    (["--param", "seed=1", "-j", "0"], "--jobs"),
])
def test_bad_parameters_exit_2_before_anything_runs(tmp_path, args, message):
    out = tmp_path / "sweep"
    r = segsim("sweep", QUICKSTART, "--set", "duration=50ms", *args, "-o", out)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert not out.exists() or not list(out.iterdir())


def test_list_values_keep_their_commas(tmp_path):
    out = tmp_path / "sweep"
    hosts = "{count: 4, prefix: h, cores: %d, clock: 2.6GHz, rx_queue_count: 4}"
    r = segsim("sweep", QUICKSTART, "--set", "duration=50ms", "-o", out,
               "--param", "topology.hosts=" + hosts % 8 + "," + hosts % 4)
    assert r.returncode == 0, r.stdout + r.stderr
    table, _ = points_table(out / "index.h5")
    assert table["topology.hosts"] == [hosts % 8, hosts % 4]
    with h5py.File(out / "point-001.h5", "r") as f:
        assert list(f["hosts/cores"][()]) == [4] * 4


def running_children(directory):
    """The `segsim run` processes of the sweep's points (their command line names a point file)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(directory / "point-").encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                pass
    return found


def test_ctrl_c_stops_the_points_and_writes_no_index(tmp_path):
    out = tmp_path / "sweep"
    sweep = subprocess.Popen([SEGSIM, "sweep", QUICKSTART, "--param", "seed=1,2,3,4", "-j", "2", "-o", out],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while len(running_children(out)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(running_children(out)) >= 2, "the points did not start"
    time.sleep(0.3)
    sweep.send_signal(signal.SIGINT)
    _, stderr = sweep.communicate(timeout=60)
    assert sweep.returncode == -signal.SIGINT, stderr
    assert "interrupted" in stderr and "no index written" in stderr
    assert not (out / "index.h5").exists()
    assert not list(out.glob("*.tmp-*"))
    assert running_children(out) == []
