"""segsim.Simulation: stepwise runs, at(), on() with sampling, exceptions out of callbacks,
timeline actions, finish() and close()."""

import collections
import os

import pytest

import segsim
from conftest import QUICKSTART

MS = 1_000_000


def quickstart(duration="60ms"):
    return segsim.Scenario.load(QUICKSTART, overrides=[f"duration={duration}"])


def test_runs_stepwise_and_finishes_at_the_end(tmp_path):
    out = tmp_path / "run.h5"
    sim = segsim.Simulation(quickstart(), output=out)
    assert (sim.now, sim.end) == (0, 60 * MS)
    sim.run(until="10ms")
    assert sim.now <= 10 * MS and not out.exists()
    sim.run(until=25 * MS)
    assert 10 * MS <= sim.now <= 25 * MS
    sim.run(until="1s")  # never past the scenario's end
    assert sim.now <= 60 * MS
    results = sim.finish()
    assert sim.finished
    assert out.exists() and not list(tmp_path.glob("*.tmp-*"))
    assert results.summary()["simulated_ns"] == 60 * MS
    assert results.run_summary["flows_started"] == results.summary()["flows_started"] > 0


def test_a_stepped_run_writes_the_same_tables_as_one_run(tmp_path):
    one = segsim.Simulation(quickstart(), output=tmp_path / "one.h5")
    one.run()
    a = one.finish()
    stepped = segsim.Simulation(quickstart(), output=tmp_path / "stepped.h5")
    for t in ("7ms", "13ms", "40ms"):
        stepped.run(until=t)
    stepped.run()
    b = stepped.finish()
    assert a.summary() == b.summary()
    assert a.flows().equals(b.flows())


def test_at_calls_back_at_the_simulated_time_and_may_schedule_more(tmp_path):
    sim = segsim.Simulation(quickstart(), output=tmp_path / "r.h5")
    seen = []

    def second():
        seen.append(("second", sim.now))

    def first():
        seen.append(("first", sim.now))
        sim.at(sim.now + 5 * MS, second)

    sim.at("12ms", first)
    sim.at(30 * MS, lambda: seen.append(("third", sim.now)))
    sim.run()
    assert seen == [("first", 12 * MS), ("second", 17 * MS), ("third", 30 * MS)]
    with pytest.raises(ValueError, match="outside the remaining run"):
        sim.at("1ms", second)  # in the past
    sim.close()


def test_stop_from_a_callback_ends_run_early(tmp_path):
    sim = segsim.Simulation(quickstart(), output=tmp_path / "r.h5")
    sim.at("20ms", sim.stop)
    sim.run()
    assert sim.now == 20 * MS
    sim.run()
    assert sim.now > 20 * MS
    sim.close()


def test_drop_annotations_match_the_drop_table_and_sample_every_n(tmp_path):
    everything = segsim.Simulation(quickstart(), output=tmp_path / "all.h5")
    records = []
    everything.on("drop", records.append)
    everything.run()
    results = everything.finish()

    drops = results.drops()
    expected = {(r.layer, r.reason): r.packets for r in drops.itertuples() if r.packets}
    counted = collections.Counter((r["layer"], r["reason"]) for r in records)
    assert {layer for layer, _ in expected} >= {"dfw", "link"}, "the quickstart drops at the firewall and in link queues"
    assert dict(counted) == expected
    assert all(r["annotation"] == "drop" and 0 <= r["time_ns"] <= 60 * MS for r in records)
    assert all(r["host"] in ("h0", "h1", "h2", "h3") for r in records if r["layer"] in ("dfw", "host"))
    assert [r["time_ns"] for r in records] == sorted(r["time_ns"] for r in records)
    policy = [r for r in records if r["reason"] in ("default_drop", "rule_drop")]
    assert policy and all(r["port_vm"] and r["source_vm"] and r["destination_vm"] for r in policy)

    sampled = segsim.Simulation(quickstart(), output=tmp_path / "sampled.h5")
    every_7 = []
    sampled.on("drop", every_7.append, every=7)
    sampled.run()
    sampled.close()
    assert every_7 == records[::7]


def test_drop_annotations_cover_the_fabric(tmp_path):
    # h0's only uplink goes down at 20 ms: what h0 sends from then on is dropped by the link
    # (link_down), what the switches hold for h0 has no route (no_route at leaf0).
    sim = segsim.Simulation(quickstart(), output=tmp_path / "r.h5")
    records = []
    sim.on("drop", records.append)
    sim.apply("link_down", at="20ms", link="h0--leaf0")
    sim.run()
    results = sim.finish()

    fabric = [r for r in records if r["layer"] in ("link", "fabric")]
    drops = results.drops()
    expected = {(r.layer, r.reason): r.packets for r in drops.itertuples() if r.layer in ("link", "fabric") and r.packets}
    assert expected.get(("link", "link_down"), 0) > 0 and expected.get(("fabric", "no_route"), 0) > 0
    assert dict(collections.Counter((r["layer"], r["reason"]) for r in fabric)) == expected
    down = [r for r in fabric if r["reason"] == "link_down"]
    # `at` names a direction of the cable as /links does.
    assert down and all(r["time_ns"] >= 20 * MS and r["at"] in ("h0->leaf-0", "leaf-0->h0") for r in down)
    assert all(r["source_vm"] and r["destination_vm"] and r["bytes"] > 0 for r in fabric)
    no_route = [r for r in fabric if r["reason"] == "no_route"]
    assert no_route and all(r["at"].startswith(("leaf-", "spine-")) and r["time_ns"] >= 20 * MS for r in no_route)


def test_off_stops_delivery(tmp_path):
    sim = segsim.Simulation(quickstart(), output=tmp_path / "r.h5")
    records = []
    handle = sim.on("drop", records.append)
    sim.run(until="20ms")
    sim.off(handle)
    before = len(records)
    sim.run()
    assert before > 0 and len(records) == before
    sim.close()


def test_unknown_annotation_kind_names_the_kinds(tmp_path):
    sim = segsim.Simulation(quickstart(), output=tmp_path / "r.h5")
    with pytest.raises(ValueError, match="expected one of migration_start, migration_done"):
        sim.on("explosion", print)
    assert "drop" in segsim.annotation_kinds()
    sim.close()


class Boom(Exception):
    pass


def test_exception_in_at_callback_stops_the_run_and_propagates(tmp_path):
    out = tmp_path / "r.h5"
    sim = segsim.Simulation(quickstart(), output=out)
    later = []

    def explode():
        raise Boom("at 15ms")

    sim.at("15ms", explode)
    sim.at("15ms", lambda: later.append(sim.now))  # same time, next event: not run by the failed run()
    with pytest.raises(Boom, match="at 15ms"):
        sim.run()
    assert sim.now == 15 * MS and later == []
    # The simulation is still usable (the caller decides whether to go on or give up), and no
    # event was lost: the next run() starts with the one after the failed callback.
    sim.run(until="20ms")
    assert later == [15 * MS]
    sim.close()
    assert not out.exists() and not list(tmp_path.glob("*.tmp-*"))


def test_exception_in_annotation_listener_propagates(tmp_path):
    sim = segsim.Simulation(quickstart(), output=tmp_path / "r.h5")
    calls = []

    def listener(record):
        calls.append(record)
        raise KeyError(record["reason"])

    sim.on("drop", listener)
    with pytest.raises(KeyError):
        sim.run()
    assert len(calls) == 1
    assert sim.now == calls[0]["time_ns"]
    sim.close()


def test_exception_in_progress_callback_propagates(tmp_path):
    sim = segsim.Simulation(quickstart("300ms"), output=tmp_path / "r.h5")
    calls = []

    def progress(now_ns, end_ns, events, wall_seconds, events_per_second):
        calls.append(now_ns)
        raise Boom(f"progress at {now_ns}")

    with pytest.raises(Boom, match="progress at"):
        sim.run(progress=progress)
    assert len(calls) == 1 and 0 < calls[0] <= 300 * MS
    sim.close()


def test_progress_bar_goes_to_stderr(tmp_path, capfd):
    sim = segsim.Simulation(quickstart("30ms"), output=tmp_path / "r.h5")
    sim.run(progress=True)
    sim.close()
    captured = capfd.readouterr()
    assert captured.out == ""
    assert "100.0% 30ms of 30ms" in captured.err


def test_run_and_finish_refuse_to_nest(tmp_path):
    sim = segsim.Simulation(quickstart(), output=tmp_path / "r.h5")
    sim.at("5ms", lambda: sim.run(until="10ms"))
    with pytest.raises(ValueError, match="cannot be called from a callback"):
        sim.run()
    sim.close()


def test_migrate_and_fail_host_from_python(tmp_path):
    sim = segsim.Simulation(quickstart("200ms"), output=tmp_path / "r.h5")
    events = []
    for kind in ("migration_start", "migration_done", "failure"):
        sim.on(kind, events.append)
    sim.migrate("web-0", "h3", at="20ms", memory="64MiB")
    sim.at("90ms", lambda: sim.fail_host("h1", restart_after="20ms"))  # an action from a callback: now
    sim.run()
    results = sim.finish()

    start, done, failure = (next(e for e in events if e["annotation"] == k)
                            for k in ("migration_start", "migration_done", "failure"))
    assert (start["time_ns"], start["vm"], start["from_host"], start["to_host"]) == (20 * MS, "web-0", "h0", "h3")
    assert 20 * MS < done["time_ns"] < 200 * MS and done["vm"] == "web-0"
    assert (failure["time_ns"], failure["target"]) == (90 * MS, "h1")
    migration = results.migrations().iloc[0]
    assert (migration["vm"], migration["from_host"], migration["to_host"]) == ("web-0", "h0", "h3")
    assert 0 < migration["downtime_ns"] < 200 * MS
    failures = results.failures()
    assert (failures["target"].iloc[0], failures["start_ns"].iloc[0]) == ("h1", 90 * MS)
    assert results.vms().set_index("name").loc["web-0", "host"] == "h3"


def test_bad_action_argument_fails_the_run_when_it_is_applied(tmp_path):
    sim = segsim.Simulation(quickstart(), output=tmp_path / "r.h5")
    sim.migrate("web-0", "h9", at="10ms")
    with pytest.raises(segsim.SimulationError, match="h9") as info:
        sim.run()
    assert info.value.exit_code == 2
    sim.close()


def test_unimplemented_or_unknown_action_is_refused(tmp_path):
    sim = segsim.Simulation(quickstart(), output=tmp_path / "r.h5")
    with pytest.raises(segsim.SimulationError, match="unknown or unimplemented action 'teleport'") as info:
        sim.apply("teleport", vm="web-0")
    assert info.value.exit_code == 2
    sim.close()


def test_finished_simulation_refuses_further_use(tmp_path):
    sim = segsim.Simulation(quickstart("10ms"), output=tmp_path / "r.h5")
    sim.run()
    sim.finish()
    with pytest.raises(segsim.SimulationError, match="finished or was closed"):
        sim.run()


def test_close_leaves_no_result_file(tmp_path):
    out = tmp_path / "r.h5"
    with segsim.Simulation(quickstart(), output=out) as sim:
        sim.run(until="5ms")
    assert not out.exists() and not list(tmp_path.glob("*.tmp-*"))


def test_bad_calibration_file_is_a_simulation_error(tmp_path):
    with pytest.raises(segsim.SimulationError) as info:
        segsim.Simulation(quickstart(), output=tmp_path / "r.h5", calibration=tmp_path / "missing.yaml")
    assert info.value.exit_code in (1, 2)
    assert "missing.yaml" in str(info.value)
    assert not os.listdir(tmp_path)



PARTITION = QUICKSTART.parent / "partition.yaml"


def partition_without_timeline():
    # partition.yaml models the control plane (1 ms management links); its own timeline is
    # dropped so that the change made here is the only one.
    return segsim.Scenario.load(PARTITION, overrides=["duration=300ms", "timeline=[]"])


def test_set_policy_reaches_every_agent_and_converges_within_a_round_trip(tmp_path):
    sim = segsim.Simulation(partition_without_timeline(), output=tmp_path / "policy.h5")
    converged = []
    sim.on("converged", converged.append)
    sim.set_policy(rule="app-to-db", verdict="drop", at="100ms")
    sim.run()
    results = sim.finish()
    changes = results.convergence()
    policy_changes = changes[changes["at_ns"] == 100 * MS]
    assert len(policy_changes) == 1
    row = policy_changes.iloc[0]
    # One message out to each impacted agent and its ack back: a round trip of the 1 ms links
    # plus serialization, never less than 2 ms and well under 3 ms.
    assert 2 * MS <= row["convergence_ns"] < 3 * MS
    assert row["converged_ns"] == row["at_ns"] + row["convergence_ns"]
    assert row["ports_impacted"] > 0 and row["messages"] >= row["hosts_impacted"] > 0
    assert [r["convergence_ns"] for r in converged if r["time_ns"] == row["converged_ns"]] == [row["convergence_ns"]]
    assert results.summary()["invariant_violations"] == 0


def test_set_policy_with_an_unknown_rule_fails_the_run_with_its_name(tmp_path):
    sim = segsim.Simulation(partition_without_timeline(), output=tmp_path / "bad.h5")
    sim.set_policy(rule="no-such-rule", verdict="drop", at="50ms")
    with pytest.raises(segsim.SimulationError, match="no-such-rule"):
        sim.run()
    assert not (tmp_path / "bad.h5").exists()
