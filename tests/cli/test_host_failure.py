"""The bundled host-failure scenario through `segsim run`: the /failures table and what the
failures did to the traffic (docs/failures.md). Run by ctest (label `scenario`) with SEGSIM_BIN
pointing at the built command; needs Debian's /usr/bin/python3 with h5py.
"""

import os
import subprocess
from pathlib import Path

import h5py

SEGSIM = os.environ["SEGSIM_BIN"]
SCENARIO = Path(os.environ["SEGSIM_SOURCE_DIR"]) / "scenarios" / "examples" / "host-failure.yaml"


def segsim(*args):
    return subprocess.run([SEGSIM, *map(str, args)], capture_output=True, text=True, timeout=300)


def text(values):
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def test_host_failure_records_each_failure_and_restarts_the_vms(tmp_path):
    out = tmp_path / "host-failure.h5"
    r = segsim("run", SCENARIO, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "failures   3 (host_crash 1, link_down 1, link_loss 1)" in r.stdout  # the report line
    ms = 1_000_000
    with h5py.File(out, "r") as f:
        t = f["failures"]
        kinds = text(t["kind"][()])
        targets = text(t["target"][()])
        assert kinds == ["host_crash", "link_down", "link_loss"], kinds
        rows = dict(zip(kinds, range(len(kinds))))
        assert targets == ["h1", "leaf0--spine0", "h4--leaf2"]
        assert t["start_ns"].attrs["units"] in ("ns", b"ns")
        start, end = t["start_ns"][()], t["end_ns"][()]
        assert list(start) == [300 * ms, 400 * ms, 700 * ms]
        # h1 recovers at 800 ms; the link comes back at 600 ms; the loss lasts to the end (-1).
        assert list(end) == [800 * ms, 600 * ms, -1]

        crash = rows["host_crash"]
        vms = text(f["vms/name"][()])
        # Round-robin placement (docs/scenario.md): VM i of each group of 12 on host i mod 6, so
        # h1 held VMs 1, 7, 13 and 19.
        dead = [vms[i] for i in range(len(vms)) if i % 6 == 1]
        assert t["vms_affected"][crash] == len(dead) == 4
        assert t["restarted_vms"][crash] == 4
        assert t["restart_ns"][crash] == 500 * ms
        assert t["connections_lost"][crash] > 0
        assert t["packets_dropped"][crash] > 0
        hosts_now = dict(zip(vms, text(f["vms/host_name"][()])))
        assert all(hosts_now[v] != "h1" for v in dead)  # HA restarted them elsewhere
        assert t["loss"][rows["link_loss"]] == 0.01

        # Packets to the crashed host were dropped with their own reason.
        drops = dict(zip(text(f["drops/reason"][()]), f["drops/packets"][()]))
        assert drops.get("host_down", 0) > 0

        # Flows of the dead VMs fail; after the restart their new flows complete.
        index = {v: i for i, v in enumerate(vms)}
        dead_idx = {index[v] for v in dead}
        fl = f["flows"]
        src, dst = fl["source_vm"][()], fl["destination_vm"][()]
        start_f, outcome = fl["start_ns"][()], text(fl["outcome"][()])
        touches = [s in dead_idx or d in dead_idx for s, d in zip(src, dst)]
        # Started while they were dead, early enough that TCP gave up (SYNs at +0, 10, 30, 70 ms,
        # failure at +150 ms) before the restart at 500 ms: every one failed.
        # Those a dead VM was asked to start end at once: its guest is down (failed_aborted,
        # source_vm_down); those sent to a dead VM time out.
        reason = text(fl["reason"][()])
        while_dead = [o for t, s, o, sv in zip(touches, start_f, outcome, src)
                      if t and 300 * ms < s < 350 * ms and sv not in dead_idx]
        from_dead = [(o, r, e - s) for s, o, r, e, sv in zip(start_f, outcome, reason, fl["end_ns"][()], src)
                     if sv in dead_idx and 300 * ms < s < 500 * ms]
        assert len(from_dead) > 0 and all(x == ("failed_aborted", "source_vm_down", 0) for x in from_dead), from_dead
        after = [o for t, s, o in zip(touches, start_f, outcome) if t and s > 500 * ms]
        assert len(while_dead) > 0 and all(o == "failed_timeout" for o in while_dead), while_dead
        assert after.count("completed") > 0

        summary = f["summary"]
        assert summary["failures"][0] == 3
        # Invariant 1 across the crash and the HA restarts: the restarted ports' new connections too.
        inv = dict(zip((x.decode() for x in f["invariants/name"][()]),
                       zip(f["invariants/checked"][()], f["invariants/violations"][()])))
        assert inv["allowed_by_enforced_version"][0] > 0 and inv["allowed_by_enforced_version"][1] == 0
        assert summary["invariant_violations"][0] == 0
