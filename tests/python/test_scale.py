"""Scaling out and in from Python: Simulation.add_vm / remove_vm (docs/python.md) against the bundled
scale-out scenario with its own timeline dropped, and their errors."""

import os
from pathlib import Path

import pytest

import segsim

MS = 1_000_000
SCALE_OUT = Path(os.environ["SEGSIM_SOURCE_DIR"]) / "scenarios" / "examples" / "scale-out.yaml"


def without_timeline():
    return segsim.Scenario.load(SCALE_OUT, overrides=["duration=400ms", "timeline=[]"])


def test_add_vm_and_remove_vm_converge_within_a_round_trip(tmp_path):
    sim = segsim.Simulation(without_timeline(), output=tmp_path / "scale.h5")
    sim.add_vm(host="h2", group="web", at="100ms")
    sim.add_vm(host="h3", name="web-extra", labels={"role": "web", "app": "shop", "env": "prod"}, at="150ms")
    sim.remove_vm("web-2", at="300ms")
    sim.run()
    results = sim.finish()
    rows = results.convergence()
    assert list(rows["change"]) == ["add_vm web-2 on h2", "add_vm web-extra on h3", "remove_vm web-2"]
    assert list(rows["at_ns"]) == [100 * MS, 150 * MS, 300 * MS]
    assert list(rows["ports_impacted"]) == [5, 5, 5]  # the web port and the 4 app ports
    # A delta out to each of the 4 hosts and its ack back over 1 ms links: at least 2 ms, and the
    # serialization of a few kB at 1 Gb/s keeps it well under 3 ms.
    assert all(2 * MS <= c < 3 * MS for c in rows["convergence_ns"])
    assert results.summary()["invariant_violations"] == 0


@pytest.mark.parametrize(
    "args, message",
    [
        ({"host": "h9", "group": "web"}, "unknown host 'h9'"),
        ({"host": "h0", "name": "app-0"}, "duplicate VM name 'app-0'"),
        ({"host": "h0", "name": "x", "labels": {"tier": "web"}}, "unknown label key 'tier'"),
    ],
)
def test_add_vm_with_bad_arguments_fails_the_run_with_the_field(tmp_path, args, message):
    sim = segsim.Simulation(without_timeline(), output=tmp_path / "bad.h5")
    sim.add_vm(at="50ms", **args)
    with pytest.raises(segsim.SimulationError, match=message):
        sim.run()
    assert not (tmp_path / "bad.h5").exists()
