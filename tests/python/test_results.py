"""segsim.Results on a result file written by the C++ `segsim run`: names resolved, derived
columns consistent with the run's own summary, optional tables, bad input. Pure Python: these
tests import nothing native (see test_results_without_native_module)."""

import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import segsim
from segsim.results import OPTIONAL_TABLES


@pytest.fixture(scope="module")
def results(quickstart_result):
    return segsim.Results(quickstart_result)


def test_summary_and_meta(results):
    summary = results.summary()
    assert summary["simulated_ns"] == 300_000_000
    assert isinstance(summary["events"], int) and summary["events"] > 0
    meta = results.meta()
    assert meta["scenario_name"] == "quickstart"
    assert meta["format"] == "segsim-result"
    assert meta["wall"]["wall_seconds"] >= 0


def test_flows_name_their_vms(results):
    flows = results.flows()
    vms = results.vms()
    assert len(flows) == results.summary()["flows_started"]
    names = vms["name"].to_numpy()
    assert (flows["source_vm"].to_numpy() == names[flows["source_vm_index"]]).all()
    assert (flows["destination_vm"].to_numpy() == names[flows["destination_vm_index"]]).all()
    # The tier traffic goes web -> app on 8080.
    tier = flows[flows["destination_port"] == 8080]
    assert len(tier) > 0 and tier["source_vm"].str.startswith("web-").all()
    assert tier["destination_vm"].str.startswith("app-").all()


def test_core_utilization_peaks_at_the_summary_value(results):
    cores = results.core_series()
    assert set(cores["host"]) == {"h0", "h1", "h2", "h3"}
    assert cores["utilization"].between(0, 1).all()
    assert cores["utilization"].max() == pytest.approx(results.summary()["peak_core_utilization"], rel=1e-9)


def test_host_series_and_drops_agree_with_the_summary(results):
    series = results.host_series()
    assert list(series["host"].unique()) == ["h0", "h1", "h2", "h3"]
    assert series["live_connections"].max() == results.summary()["peak_live_connections"]
    assert results.drops()["packets"].sum() == results.summary()["drops_total"]
    links = results.link_series()
    assert links["link"].str.contains("->").all()  # one row per direction: "h0->leaf-0"


def test_rules_carry_the_host_of_their_vm(results):
    rules = results.rules()
    vms = results.vms().set_index("name")
    assert len(rules) > 0
    assert (rules["host"].to_numpy() == vms.loc[rules["vm"], "host"].to_numpy()).all()


def test_latency_percentiles_are_ordered(results):
    latency = results.latency()
    assert latency["scope"].iloc[0] == "all"
    assert (latency["p50_ns"] <= latency["p99_ns"]).all() and (latency["p99_ns"] <= latency["p999_ns"]).all()


@pytest.mark.parametrize("name", sorted(OPTIONAL_TABLES))
def test_absent_feature_tables_are_empty_with_their_columns(results, name):
    if results.has(name):
        df = getattr(results, name)()
        assert set(OPTIONAL_TABLES[name]) <= set(df.columns)
    else:
        df = getattr(results, name)()
        assert df.empty and list(df.columns) == OPTIONAL_TABLES[name]


def test_bad_files_raise_results_error(tmp_path):
    with pytest.raises(segsim.ResultsError, match="no such file"):
        segsim.Results(tmp_path / "missing.h5")
    text = tmp_path / "text.h5"
    text.write_text("hello")
    with pytest.raises(segsim.ResultsError, match="not an HDF5 file"):
        segsim.Results(text)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(segsim.ResultsError, match="not a segsim result"):
        segsim.Results(foreign)


def test_results_without_native_module(quickstart_result, tmp_path):
    """The reader works where the extension is not built: only the pure-Python package on the path."""
    source_package = os.path.join(os.environ["SEGSIM_SOURCE_DIR"], "python")
    code = ("import sys, segsim; r = segsim.Results(sys.argv[1]); "
            "print(len(r.flows()), r.summary()['flows_started']); "
            "import importlib.util; print(importlib.util.find_spec('segsim._native'))")
    r = subprocess.run([sys.executable, "-c", code, str(quickstart_result)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": source_package}, timeout=120)
    assert r.returncode == 0, r.stderr
    flows, started, spec = r.stdout.split()[:2] + [r.stdout.splitlines()[1]]
    assert flows == started
    assert spec == "None"
