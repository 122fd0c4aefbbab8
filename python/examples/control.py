"""Steer a run from Python: call code at simulated times, listen to annotations, apply timeline
actions (when this build implements them).

    . build/default/activate
    /usr/bin/python3 python/examples/control.py
"""

import collections
from pathlib import Path

import segsim

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "quickstart.yaml"


def main():
    scenario = segsim.Scenario.load(QUICKSTART, overrides=["duration=200ms"])
    sim = segsim.Simulation(scenario, output="out/control.h5")

    # Every 10th drop (a high-rate annotation: sample it), counted by where and why.
    drops = collections.Counter()
    sim.on("drop", lambda record: drops.update([f"{record['layer']}.{record['reason']}"]), every=10)

    # Low-rate annotations, printed as they happen (kinds this build does not emit stay silent).
    for kind in ("migration_done", "failure", "recovery", "converged", "invariant_violation"):
        sim.on(kind, lambda record: print(f"  {record['time_ns'] / 1e6:8.3f} ms  {record['annotation']}: {record}"))

    # Code at simulated times: a periodic probe that reschedules itself.
    def probe():
        print(f"  {sim.now / 1e6:8.3f} ms  probe: {sum(drops.values()) * 10} drops so far (sampled 1 in 10)")
        if sim.now + 50_000_000 <= sim.end:
            sim.at(sim.now + 50_000_000, probe)

    sim.at("50ms", probe)

    # Timeline actions, scheduled at simulated times; skipped when not built in.
    if sim.has_action("migrate"):
        sim.migrate("web-0", "h3", at="80ms", memory="64MiB")
    if sim.has_action("set_rule_action"):
        sim.set_policy(rule="web-to-app", verdict="drop", at="120ms")
    if sim.has_action("fail_host"):
        sim.fail_host("h1", restart_after="30ms", at="150ms")

    sim.run(until="100ms")          # run part of the way ...
    print(f"paused at {sim.now / 1e6:.3f} ms")
    sim.run(progress=True)          # ... then to the end
    results = sim.finish()
    print("sampled drops:", dict(drops))
    print("migrations:", len(results.migrations()), "failures:", len(results.failures()))


if __name__ == "__main__":
    main()
