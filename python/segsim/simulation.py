"""segsim.Simulation: one run of a scenario that Python steps and steers.

Times are simulated nanoseconds (int) or duration strings as in scenarios ("500ms", "1.5us").
Callbacks (at(), on()) run inside the simulation at their simulated time; an exception raised by a
callback stops the run after that event and comes out of run() unchanged.
"""

import os
import sys

from ._native_loader import native, native_exception
from .progress import ProgressBar
from .results import Results

SimulationError = native_exception("SimulationError")


def to_ns(t):
    """Simulated time in ns from an int (ns) or a duration string ("500ms")."""
    if isinstance(t, bool):
        raise TypeError("a time is an int (ns) or a duration string such as '500ms', not a bool")
    if isinstance(t, int):
        return t
    if isinstance(t, str):
        return native().parse_duration(t)
    raise TypeError(f"a time is an int (ns) or a duration string such as '500ms', not {type(t).__name__}")


def action_argument(value):
    """A Python value as a timeline argument string (lists joined with ",", maps as "k=v,k=v")."""
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Simulation:
    """A run of `scenario` (a segsim.Scenario) into the result file `output` (default: the
    scenario's outputs.path, else <name>.h5). Use as a context manager, or call finish() or
    close(): an unfinished run leaves no result file."""

    def __init__(self, scenario, output=None, calibration=None):
        self.scenario = scenario
        command_line = "python: " + " ".join([os.path.basename(sys.argv[0] if sys.argv else "")] + sys.argv[1:])
        self._sim = native().Simulation(scenario._native, os.fspath(output) if output else "",
                                        os.fspath(calibration) if calibration else "", command_line)
        self._handles = {}

    # -- time ---------------------------------------------------------------------------------
    @property
    def now(self):
        """Current simulated time, ns."""
        return self._sim.now_ns

    @property
    def end(self):
        """The scenario's duration, ns: the run never goes past it."""
        return self._sim.end_ns

    @property
    def finished(self):
        return self._sim.finished

    def run(self, until=None, progress=False):
        """Runs every event before `until` (default: the end of the scenario). progress=True draws
        a bar on stderr; a callable gets (now_ns, end_ns, events, wall_seconds, events_per_second)."""
        until_ns = self.end if until is None else min(to_ns(until), self.end)
        bar = ProgressBar(self.now, until_ns) if progress is True else None
        hook = bar if bar is not None else (progress if callable(progress) else None)
        try:
            self._sim.run_until(until_ns, hook)
        finally:
            if bar is not None:
                bar.close(self.now)
        return self

    def stop(self):
        """Ends the current run() after the running event (call it from a callback)."""
        self._sim.stop()

    # -- control ------------------------------------------------------------------------------
    def at(self, t, fn):
        """Calls fn() at simulated time t (>= now, <= end). fn may call at(), migrate(), stop(), ..."""
        self._sim.at(to_ns(t), _checked_callable(fn))

    def apply(self, action, at=None, **args):
        """Schedules a timeline action (docs/scenario.md, "timeline") at `at` (default: now).
        Raises SimulationError if this build does not implement the action."""
        at_ns = self.now if at is None else to_ns(at)
        self._sim.apply(at_ns, action, {k: action_argument(v) for k, v in args.items() if v is not None})

    def has_action(self, action):
        return self._sim.has_action(action)

    def migrate(self, vm, host, state="move", policy="before", at=None, **options):
        """Live-migrates `vm` to `host`; state "move" | "drop" (carry dfw state or not), policy
        "before" | "after" (destination gets the VM's policy before or after switchover);
        options: memory="4GiB", dirty_rate="800Mbps", bandwidth="10Gbps" (docs/scenario.md)."""
        self.apply("migrate", at=at, vm=vm, to=host, state=state, policy=policy, **options)

    def fail_host(self, host, restart_after=None, at=None):
        """Crashes `host`; with restart_after ("100ms") HA restarts its VMs elsewhere after that delay."""
        self.apply("fail_host", at=at, host=host, restart_after=restart_after)

    def recover_host(self, host, at=None):
        self.apply("recover_host", at=at, host=host)

    def set_policy(self, rule=None, verdict=None, default=None, relabel=None, at=None):
        """Policy changes: set_policy(rule="web-to-app", verdict="drop"), set_policy(default="allow"),
        set_policy(relabel={"vm": "web-1", "labels": {"role": "db"}})."""
        if rule is not None:
            self.apply("set_rule_action", at=at, rule=rule, verdict=verdict)
        elif verdict is not None:
            raise ValueError("set_policy(verdict=...) needs rule=...; use default=... for the default action")
        if default is not None:
            self.apply("set_default_action", at=at, verdict=default)
        if relabel is not None:
            self.apply("relabel", at=at, vm=relabel["vm"], labels=relabel["labels"])

    def add_vm(self, host, name=None, group=None, labels=None, ipv4=None, ipv6=None, mac=None, vnic_rate=None,
               at=None):
        """Scale out: creates a VM on `host`, named `name` or the next free group-N of `group` (whose
        labels and vNIC rate it takes unless given); addresses come from topology.vm_subnet unless
        given. The control plane adapts every impacted port; a /convergence row records it."""
        self.apply("add_vm", at=at, host=host, name=name, group=group, labels=labels, ipv4=ipv4, ipv6=ipv6, mac=mac,
                   vnic_rate=vnic_rate)

    def remove_vm(self, vm, at=None):
        """Scale in: stops `vm`, removes its port and vNIC, and the control plane forgets it."""
        self.apply("remove_vm", at=at, vm=vm)

    # -- annotations --------------------------------------------------------------------------
    def on(self, kind, callback, every=1):
        """Calls callback(record) for each `kind` annotation (segsim.annotation_kinds()); record is a
        dict with time_ns, annotation (the kind) and the emitter's fields. every=N delivers the 1st, (N+1)th, ...
        record (sampling for high-rate kinds such as "drop"). Returns a handle for off()."""
        return self._sim.on(kind, _checked_callable(callback), int(every))

    def off(self, handle):
        self._sim.off(handle)

    # -- end ----------------------------------------------------------------------------------
    def finish(self):
        """Writes the result file (at the current simulated time, normally the end) and returns
        its segsim.Results; summary() of it has the headline numbers."""
        summary = self._sim.finish()
        results = Results(summary["result_path"])
        results.run_summary = summary
        return results

    def close(self):
        """Abandons an unfinished run: frees the world; no result file is written."""
        self._sim.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return f"<segsim.Simulation {self.scenario.name!r} at {self.now} ns of {self.end} ns>"


def _checked_callable(fn):
    """Callbacks are held by the native simulation until finish() or close()."""
    if not callable(fn):
        raise TypeError(f"expected a callable, got {type(fn).__name__}")
    return fn


def annotation_kinds():
    return list(native().annotation_kinds())
