"""The bundled partition scenario through `segsim run`: a policy change while two hosts are cut off
the management network, then the heal (docs/control-plane.md, "In the simulator"). Run by ctest
(label `scenario`) with SEGSIM_BIN pointing at the built command; needs Debian's /usr/bin/python3
with h5py.
"""

import os
import subprocess
from pathlib import Path

import h5py
import numpy as np

SEGSIM = os.environ["SEGSIM_BIN"]
SCENARIO = Path(os.environ["SEGSIM_SOURCE_DIR"]) / "scenarios" / "examples" / "partition.yaml"
MS = 1_000_000


def segsim(*args):
    return subprocess.run([SEGSIM, *map(str, args)], capture_output=True, text=True, timeout=300)


def text(values):
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def run(tmp_path, name="partition.h5"):
    out = tmp_path / name
    r = segsim("run", SCENARIO, "-o", out)
    assert r.returncode == 0, r.stderr
    return r, out


def test_change_converges_only_after_the_heal(tmp_path):
    r, out = run(tmp_path)
    assert "policy        1 changes, converged p50" in r.stdout
    assert "invariants 3 checked, no violations" in r.stdout
    with h5py.File(out, "r") as f:
        c = f["convergence"]
        assert text(c["change"][()]) == ["set_rule_action web-to-app drop"]
        assert c["at_ns"].attrs["units"] in ("ns", b"ns")
        assert list(c["at_ns"][()]) == [600 * MS]
        assert list(c["hosts_impacted"][()]) == [4]  # web and app VMs on every host
        assert list(c["ports_impacted"][()]) == [16]  # 8 web egress + 8 app ingress
        converged = int(c["converged_ns"][()][0])
        # h2 and h3 get it only after the heal at 1.6 s: reconnect, Hello, Snapshot, Ack (at
        # least two round trips of 2 ms), and before the end of the run.
        assert 1600 * MS + 4 * MS <= converged < 2500 * MS
        assert int(c["convergence_ns"][()][0]) == converged - 600 * MS
        assert int(c["enforced_ns"][()][0]) < converged
        assert list(c["compute_ns"][()]) == [0]  # no simulated compute time; wall time in /meta/wall
        assert f["meta/wall"].attrs["controller_compute_ns"] > 0

        ctl = f["control"]
        assert text(ctl["host"][()]) == ["h0", "h1", "h2", "h3"]
        # h0, h1 kept their session; h2, h3 lost it (heartbeats) and resynced with a Snapshot.
        assert list(ctl["connections"][()]) == [1, 1, 2, 2]
        assert list(ctl["disconnections"][()]) == [0, 0, 1, 1]
        assert list(ctl["deltas_applied"][()]) == [1, 1, 0, 0]
        assert list(ctl["snapshots_applied"][()]) == [1, 1, 2, 2]
        assert list(ctl["messages_held"][()][:2]) == [0, 0]
        assert all(ctl["messages_held"][()][2:] > 0)
        assert len(set(ctl["applied_generation"][()])) == 1  # everyone on the same generation

        ports = f["control_ports"]
        assert np.array_equal(ports["version"][()], ports["desired_version"][()])

        inv = f["invariants"]
        rows = dict(zip(text(inv["name"][()]), range(len(inv["name"][()]))))
        assert inv["violations"][()][rows["converged_rules_match"]] == 0
        assert inv["checked"][()][rows["converged_rules_match"]] > 0
        # Invariant 1: h2/h3's new connections under the replaced version are exposure, not violations.
        assert inv["checked"][()][rows["allowed_by_enforced_version"]] > 0
        assert inv["violations"][()][rows["allowed_by_enforced_version"]] == 0
        # h2 and h3 kept allowing web -> app under the replaced version until the heal.
        stale = rows["stale_policy_exposure"]
        assert inv["counts_only"][()][stale] == 1
        assert inv["violations"][()][stale] > 0

        s = f["summary"]
        assert s["policy_changes"][()][0] == 1
        assert s["changes_not_converged"][()][0] == 0
        assert s["invariant_violations"][()][0] == 0
        assert s["stale_policy_packets"][()][0] == inv["violations"][()][stale]


def test_partition_runs_are_deterministic(tmp_path):
    _, a = run(tmp_path, "a.h5")
    _, b = run(tmp_path, "b.h5")
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for table in ("convergence", "control", "control_messages", "invariants"):
            for column in fa[table]:
                assert np.array_equal(fa[table][column][()], fb[table][column][()]), (table, column)


def test_without_control_plane_section_policy_actions_are_refused(tmp_path):
    # The same scenario without its control_plane section (data paths made absolute).
    source = SCENARIO.read_text()
    source = source[: source.index("control_plane:")] + source[source.index("transport:") :]
    copy = tmp_path / "no-control-plane.yaml"
    copy.write_text(source.replace("../data/", str(SCENARIO.parent.parent / "data") + "/"))
    out = tmp_path / "refused.h5"
    r = segsim("run", copy, "-o", out)
    assert r.returncode == 2
    assert "partition_hosts needs a modelled control plane" in r.stderr  # the first such event
    assert not out.exists()
