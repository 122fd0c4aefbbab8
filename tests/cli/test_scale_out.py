"""The bundled scale-out scenario through `segsim run`: the web tier scales 2 -> 4 -> 2 under load
with the modelled control plane (docs/control-plane.md, "Scaling out and in"). Run by ctest (label
`scenario`) with SEGSIM_BIN pointing at the built command; needs Debian's /usr/bin/python3 with
h5py.
"""

import os
import subprocess
from pathlib import Path

import h5py

SEGSIM = os.environ["SEGSIM_BIN"]
SCENARIO = Path(os.environ["SEGSIM_SOURCE_DIR"]) / "scenarios" / "examples" / "scale-out.yaml"
MS = 1_000_000


def text(values):
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def test_web_tier_scales_out_and_in(tmp_path):
    out = tmp_path / "scale-out.h5"
    r = subprocess.run([SEGSIM, "run", str(SCENARIO), "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "scale         2 VMs added, 2 removed" in r.stdout
    with h5py.File(out, "r") as f:
        c = f["convergence"]
        assert text(c["change"][()]) == ["add_vm web-2 on h2", "add_vm web-3 on h3", "remove_vm web-2", "remove_vm web-3"]
        assert text(c["kind"][()]) == ["add_workload", "add_workload", "remove_workload", "remove_workload"]
        assert list(c["at_ns"][()]) == [300 * MS, 400 * MS, 1200 * MS, 1300 * MS]
        # The web VM's own port and the ingress sets of the 4 app VMs (one per host).
        assert list(c["ports_impacted"][()]) == [5, 5, 5, 5]
        assert list(c["hosts_impacted"][()]) == [4, 4, 4, 4]
        # One management round trip (1 ms each way, the controller's own link adds none), plus
        # the serialization of a delta and an ack per host at 1 Gb/s (8 ns a byte) and 10 Gb/s.
        for convergence, size, messages in zip(c["convergence_ns"][()], c["bytes"][()], c["messages"][()]):
            assert messages == 8  # a delta and an ack per impacted host
            assert 2 * MS <= convergence <= 2 * MS + 9 * size + 2 * messages

        vms = text(f["vms/name"][()])
        assert vms[-2:] == ["web-2", "web-3"]
        ipv4 = text(f["vms/ipv4"][()])
        # The 8 scenario VMs have 10.0.0.1-8; the new ones take the next free addresses.
        assert ipv4[-2:] == ["10.0.0.9", "10.0.0.10"]
        web2, web3 = len(vms) - 2, len(vms) - 1
        flows = f["flows"]
        sources = list(flows["source_vm"][()])
        starts = list(flows["start_ns"][()])
        outcomes = text(flows["outcome"][()])
        converged = list(c["converged_ns"][()])
        for vm, joined, removed in ((web2, converged[0], 1200 * MS), (web3, converged[1], 1300 * MS)):
            mine = [i for i, s in enumerate(sources) if s == vm]
            assert mine, "the new VM joined the web -> app traffic"
            assert all(joined <= starts[i] < removed for i in mine)
            assert any(outcomes[i] == "completed" for i in mine)

        inv = f["invariants"]
        rows = dict(zip(text(inv["name"][()]), range(len(inv["name"][()]))))
        assert inv["violations"][()][rows["converged_rules_match"]] == 0
        assert inv["checked"][()][rows["converged_rules_match"]] > 0
        s = f["summary"]
        assert s["invariant_violations"][()][0] == 0
        assert s["vms_added"][()][0] == 2
        assert s["vms_removed"][()][0] == 2
        assert s["changes_not_converged"][()][0] == 0
