"""segsim.Sweep: the index file of a parameter sweep (`segsim sweep`, docs/sweep.md), pure Python.

    sweep = segsim.Sweep.run("scenarios/examples/quickstart.yaml",
                             {"traffic.0.load": [0.1, 0.3, 0.5]}, output_dir="out/sweep", jobs=2)
    sweep.points()            # one row per point: parameters (numeric where they parse), status,
                              # result_path, and every /summary column of the point's result
    sweep.results(0)          # the segsim.Results of point 0
"""

import os
import shutil
import subprocess

import h5py
import pandas as pd

from .results import FORMAT, Results, ResultsError, read_table

INDEX_KIND = "sweep-index"


def find_segsim():
    """The segsim command: $SEGSIM_BIN, else `segsim` on PATH (build/default/activate puts it there)."""
    binary = os.environ.get("SEGSIM_BIN") or shutil.which("segsim")
    if not binary:
        raise FileNotFoundError("segsim command not found: set SEGSIM_BIN or source build/default/activate")
    return binary


def is_sweep_index(path):
    try:
        with h5py.File(path, "r") as f:
            return "meta" in f and f["meta"].attrs.get("kind") == INDEX_KIND
    except OSError:
        return False


class Sweep:
    def __init__(self, path):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise ResultsError(f"{self.path}: no such file")
        try:
            with h5py.File(self.path, "r") as f:
                meta = f["meta"].attrs if "meta" in f else {}
                if meta.get("format") != FORMAT or meta.get("kind") != INDEX_KIND:
                    raise ResultsError(f"{self.path}: not a segsim sweep index (/meta kind '{INDEX_KIND}')")
                self._points = read_table(f["points"])
                self._parameters = read_table(f["parameters"])
                self._meta = {k: (v.item() if hasattr(v, "item") else v) for k, v in meta.items()}
        except OSError as error:
            raise ResultsError(f"{self.path}: not an HDF5 file ({error})") from None

    @classmethod
    def run(cls, scenario, params, output_dir, jobs=None, overrides=(), segsim=None, check=False):
        """Runs `segsim sweep` over the grid `params` ({key: [values]}) into output_dir and
        returns the Sweep of its index. A failed point is recorded in points() (status, error);
        check=True raises CalledProcessError instead when any point failed."""
        command = [segsim or find_segsim(), "sweep", os.fspath(scenario), "-o", os.fspath(output_dir)]
        for key, values in params.items():
            command += ["--param", f"{key}=" + ",".join(str(v) for v in values)]
        for override in overrides:
            command += ["--set", override]
        if jobs:
            command += ["-j", str(jobs)]
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode == 2 or (check and completed.returncode != 0):
            raise subprocess.CalledProcessError(completed.returncode, command, completed.stdout, completed.stderr)
        return cls(os.path.join(os.fspath(output_dir), "index.h5"))

    def parameters(self):
        """The swept keys, in grid order."""
        return list(self._parameters["key"])

    def meta(self):
        return dict(self._meta)

    def points(self):
        """/points with parameter columns converted to numbers where every value is one."""
        df = self._points.copy()
        for key in self.parameters():
            if key in df.columns:
                numeric = pd.to_numeric(df[key], errors="coerce")
                if not numeric.isna().any():
                    df[key] = numeric
        return df

    def results(self, point):
        """The Results of point number `point` (a row of points())."""
        row = self._points[self._points["point"] == point]
        if row.empty:
            raise ResultsError(f"{self.path}: no point {point}")
        if row["status"].iloc[0] != "ok":
            raise ResultsError(f"{self.path}: point {point} has no result ({row['status'].iloc[0]}: "
                               f"{row['error'].iloc[0]})")
        return Results(os.path.join(os.path.dirname(os.path.abspath(self.path)), row["result_path"].iloc[0]))

    def __repr__(self):
        return f"<segsim.Sweep {self.path!r}: {len(self._points)} points over {', '.join(self.parameters())}>"
