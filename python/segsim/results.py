"""segsim.Results: a result file (docs/results.md) as pandas DataFrames. Pure Python (h5py, pandas):
works without the native module.

Indices into the directory tables are resolved to names: a column that holds a host, VM or link
index (`host`, `source_vm`, `link`, ...) holds the name instead, and the index moves to
`<column>_index`.
"""

import os

import h5py
import numpy as np
import pandas as pd

FORMAT = "segsim-result"
FORMAT_VERSIONS = (1,)

# Tables that only some runs write (features of the run): their documented columns, so that a
# file without the table still gives a DataFrame with the right shape (CONTEXT: result tables).
OPTIONAL_TABLES = {
    "migrations": ["vm", "from_host", "to_host", "start_ns", "precopy_ns", "rounds", "bytes_copied", "downtime_ns",
                   "state_blob_bytes", "connections_moved", "switchover_drops", "connections_broken",
                   "policy_gap_ns", "state", "policy"],
    "failures": ["kind", "target", "start_ns", "end_ns", "vms_affected", "connections_lost", "packets_dropped"],
    "convergence": ["change", "kind", "at_ns", "converged_ns", "convergence_ns", "ports_impacted",
                    "hosts_impacted", "messages", "bytes", "compute_ns"],
    "invariants": ["name", "checked", "violations"],
}


class ResultsError(ValueError):
    """The file is missing, not HDF5, not a segsim result, or lacks a table that every run writes."""


def read_table(group):
    """A table group as a DataFrame: one column per dataset, in file order, strings as str."""
    columns = {}
    for name, dataset in group.items():
        if isinstance(dataset, h5py.Dataset):
            columns[name] = dataset.asstr()[()] if dataset.dtype.kind == "O" else dataset[()]
    return pd.DataFrame(columns)


def _resolve(df, column, names):
    """Replaces index column `column` by names (index kept as <column>_index)."""
    if column not in df.columns or names is None:
        return df
    index = df[column].astype("int64")
    position = df.columns.get_loc(column)
    lookup = np.asarray(names, dtype=object)
    valid = (index >= 0) & (index < len(lookup))
    resolved = np.where(valid, lookup[index.clip(0, max(len(lookup) - 1, 0))] if len(lookup) else "", "")
    df = df.drop(columns=[column])
    df.insert(position, column, resolved)
    df.insert(position + 1, column + "_index", index.to_numpy())
    return df


class Results:
    """One result file. Every accessor reads the file anew (no handle stays open)."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.run_summary = None  # the summary dict Simulation.finish() returned, if it made this file
        if not os.path.exists(self.path):
            raise ResultsError(f"{self.path}: no such file")
        try:
            with h5py.File(self.path, "r") as f:
                self._check(f)
                self._tables = self._list_tables(f)
        except OSError as error:
            raise ResultsError(f"{self.path}: not an HDF5 file ({error})") from None

    def _check(self, f):
        meta = f["meta"].attrs if "meta" in f else {}
        if meta.get("format") != FORMAT:
            raise ResultsError(f"{self.path}: not a segsim result file (no /meta format '{FORMAT}')")
        version = int(meta.get("format_version", -1))
        if version not in FORMAT_VERSIONS:
            raise ResultsError(f"{self.path}: result format version {version} is not supported "
                               f"(this reader knows {', '.join(map(str, FORMAT_VERSIONS))})")

    @staticmethod
    def _list_tables(f):
        tables = []
        f.visititems(lambda path, obj: tables.append(path) if isinstance(obj, h5py.Group) and any(
            isinstance(child, h5py.Dataset) for child in obj.values()) else None)
        return tables

    # -- generic ------------------------------------------------------------------------------
    def tables(self):
        """Every table path in the file ("flows", "series/hosts", ...)."""
        return list(self._tables)

    def has(self, table):
        return table.strip("/") in self._tables

    def table(self, path):
        """Any table as it is in the file (no name resolution)."""
        path = path.strip("/")
        with h5py.File(self.path, "r") as f:
            if path not in f or path not in self._tables:
                raise ResultsError(f"{self.path}: no table /{path} (tables: {', '.join(self._tables)})")
            return read_table(f[path])

    def units(self, path):
        """{column: units} of a table."""
        with h5py.File(self.path, "r") as f:
            group = f[path.strip("/")]
            return {name: group[name].attrs.get("units") for name in group if isinstance(group[name], h5py.Dataset)}

    def meta(self):
        """The /meta attributes as a dict, with /meta/wall's under "wall"."""
        with h5py.File(self.path, "r") as f:
            out = {k: _plain(v) for k, v in f["meta"].attrs.items()}
            if "wall" in f["meta"]:
                out["wall"] = {k: _plain(v) for k, v in f["meta/wall"].attrs.items()}
            return out

    def summary(self):
        """The /summary row as a dict of Python numbers."""
        row = self.table("summary")
        return {name: _plain(row[name].iloc[0]) for name in row.columns}

    # -- directories --------------------------------------------------------------------------
    def hosts(self):
        return self.table("hosts")

    def vms(self):
        return _resolve(self.table("vms"), "host", self._names("hosts")) if self.has("vms") else pd.DataFrame()

    def links(self):
        return self.table("links")

    def _names(self, directory):
        if not self.has(directory):
            return None
        with h5py.File(self.path, "r") as f:
            return list(f[directory]["name"].asstr()[()])

    # -- run tables ---------------------------------------------------------------------------
    def flows(self):
        vms = self._names("vms")
        return _resolve(_resolve(self.table("flows"), "source_vm", vms), "destination_vm", vms)

    def host_series(self):
        """/series/hosts: cumulative counters per host and sample (diff consecutive rows for rates)."""
        return _resolve(self.table("series/hosts"), "host", self._names("hosts"))

    def core_series(self):
        """/series/cores plus `utilization`: busy share of each core over each sample interval."""
        df = self.table("series/cores")
        if len(df):
            keys = [df["host"], df["core"]]
            busy = df["busy_ns"].astype("float64").groupby(keys).diff()
            span = df["time_ns"].astype("float64").groupby(keys).diff()
            first = span.isna()
            busy[first] = df["busy_ns"].astype("float64")[first]
            span[first] = df["time_ns"].astype("float64")[first]
            df["utilization"] = (busy / span.where(span > 0)).fillna(0.0)
        else:
            df["utilization"] = pd.Series(dtype="float64")
        return _resolve(df, "host", self._names("hosts"))

    def link_series(self):
        return _resolve(self.table("series/links"), "link", self._names("links"))

    def drops(self):
        return self.table("drops")

    def latency(self):
        """/latency/percentiles: scope "all", then one row per receiving host."""
        return self.table("latency/percentiles")

    def latency_histogram(self):
        return self.table("latency/histogram")

    def rules(self):
        """/rules plus the VM's `host` (name)."""
        df = self.table("rules")
        vms = self.vms()
        if len(df) and len(vms) and "vm_index" in df.columns:
            df["host"] = vms["host"].to_numpy()[df["vm_index"].astype("int64").to_numpy()]
        return df

    def migrations(self):
        return self._optional("migrations")

    def failures(self):
        return self._optional("failures")

    def convergence(self):
        return self._optional("convergence")

    def invariants(self):
        return self._optional("invariants")

    def _optional(self, name):
        if self.has(name):
            return self.table(name)
        return pd.DataFrame({column: pd.Series(dtype="object") for column in OPTIONAL_TABLES[name]})

    def __repr__(self):
        return f"<segsim.Results {self.path!r}: {len(self._tables)} tables>"


def _plain(value):
    """numpy scalars and bytes as plain Python values."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value
