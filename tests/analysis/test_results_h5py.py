"""A segsim result file is readable with plain h5py and pandas, without segsim installed.

Run by ctest (analysis_results_h5py) with SEGSIM_EXAMPLE_WRITER pointing at the
analysis_example_writer helper; by hand:
    SEGSIM_EXAMPLE_WRITER=build/tests/analysis/analysis_example_writer \
        /usr/bin/python3 -m pytest tests/analysis/test_results_h5py.py
"""

import os
import pathlib
import re
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

STREAMED_ROWS = 40000


@pytest.fixture(scope="module")
def result_path(tmp_path_factory):
    writer = os.environ.get("SEGSIM_EXAMPLE_WRITER")
    if not writer:
        pytest.fail("set SEGSIM_EXAMPLE_WRITER to the analysis_example_writer binary")
    path = tmp_path_factory.mktemp("results") / "example.h5"
    subprocess.run([writer, str(path), str(STREAMED_ROWS)], check=True, capture_output=True)
    return path


def table(group):
    """The documented way to load a table: one DataFrame column per dataset, in file order."""
    return pd.DataFrame({name: group[name][()] for name in group})


def test_meta_identifies_a_segsim_result(result_path):
    with h5py.File(result_path, "r") as f:
        meta = f["meta"].attrs
        assert meta["format"] == "segsim-result"
        assert meta["format_version"] == 1
        assert meta["scenario_name"] == "example"
        assert meta["seed"] == 7
        assert meta["scenario_text"].startswith("name: example")
        assert isinstance(meta["segsim_version"], str)
        wall = f["meta/wall"].attrs
        assert set(wall.keys()) >= {"start_utc", "end_utc", "wall_seconds"}
        assert wall["wall_seconds"] >= 0.0


def test_every_dataset_has_units(result_path):
    datasets = []
    with h5py.File(result_path, "r") as f:
        f.visititems(lambda name, obj: datasets.append((name, obj.attrs.get("units")))
                     if isinstance(obj, h5py.Dataset) else None)
    assert len(datasets) == 11
    for name, units in datasets:
        assert isinstance(units, str) and units != "", name


def test_flows_load_as_a_dataframe_in_column_order(result_path):
    with h5py.File(result_path, "r") as f:
        flows = table(f["flows"])
        assert f["flows/completion_ns"].attrs["units"] == "ns"
        assert f["flows/goodput"].attrs["units"] == "bit/s"
        # Strings are variable-length UTF-8; h5py returns bytes unless asked for str.
        verdicts = f["flows/verdict"].asstr()[()]
    assert flows.shape == (3, 5)
    assert list(flows.columns) == ["flow_id", "bytes", "completion_ns", "goodput", "verdict"]
    assert flows["bytes"].dtype == np.uint64
    assert flows["completion_ns"].dtype == np.int64
    assert flows["bytes"].tolist() == [1500, 64, 9000]
    assert list(verdicts) == ["allow", "drop", "allow"]


def test_streamed_table_has_every_row(result_path):
    with h5py.File(result_path, "r") as f:
        series = table(f["hosts/h1/series"])
        assert f["hosts/h1/series/time_ns"].chunks is not None
        assert f["hosts/h1/series/time_ns"].compression == "gzip"
    assert series.shape == (STREAMED_ROWS, 3)
    assert (np.diff(series["time_ns"].to_numpy()) == 1_000_000).all()
    assert series["utilization"].iloc[150] == pytest.approx(0.5)


def test_summary_is_one_row(result_path):
    with h5py.File(result_path, "r") as f:
        summary = table(f["summary"])
    assert summary.shape == (1, 3)
    assert summary["packets"].iloc[0] == 123456
    assert summary["p99_latency_ns"].iloc[0] == pytest.approx(1500.5)


def test_no_temporary_file_is_left(result_path):
    assert os.listdir(result_path.parent) == ["example.h5"]


def test_docs_snippet_runs(result_path):
    """The h5py/pandas snippet in docs/results.md runs as it is."""
    docs = pathlib.Path(__file__).resolve().parents[2] / "docs" / "results.md"
    snippet = re.search(r"```python\n(.*?)```", docs.read_text(), re.S).group(1)
    run = subprocess.run([sys.executable, "-c", snippet, str(result_path)], check=True,
                         capture_output=True, text=True)
    assert "scenario example seed 7" in run.stdout
    assert "/hosts/h1/series (40000, 3)" in run.stdout
