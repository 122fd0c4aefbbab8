"""dfw-controller and two dfw-agent processes over loopback TCP (docs/control-plane.md).

A policy change (file rewritten, SIGHUP) must reach both agents: the verdicts of their real dfw
datapaths change. Killing the controller must leave the agents enforcing the last policy, and a
restarted controller must resynchronize them. Bad input exits with status 2 and a clear message.
"""

import json
import os
import queue
import signal
import subprocess
import threading
import time

import pytest

CONTROLLER = os.environ.get("DFW_CONTROLLER_BIN", "dfw-controller")
AGENT = os.environ.get("DFW_AGENT_BIN", "dfw-agent")

POLICY = """\
default_action: drop
rules:
  - name: web-to-api
    from: {role: web}
    to: {role: api}
    services: [tcp/%d]
    action: allow
"""

WORKLOADS = """\
workloads:
  - {id: 1, name: web-1, host: h1, addresses: [10.0.0.1], labels: {role: web}}
  - {id: 2, name: api-1, host: h2, addresses: [10.0.0.2], labels: {role: api}}
"""

# The web -> api flow where each host enforces it: egress at web-1 (h1), ingress at api-1 (h2).
PROBES = {
    "h1": ["8080=1:egress:tcp:10.0.0.1:10.0.0.2:8080", "9090=1:egress:tcp:10.0.0.1:10.0.0.2:9090"],
    "h2": ["8080=2:ingress:tcp:10.0.0.1:10.0.0.2:8080", "9090=2:ingress:tcp:10.0.0.1:10.0.0.2:9090"],
}

FAST = ["--heartbeat-ms", "200", "--missed-heartbeats", "3"]


class Controller:
    def __init__(self, directory, listen):
        self.lines = queue.Queue()
        self.process = subprocess.Popen(
            [CONTROLLER, "--policy", str(directory / "policy.yaml"), "--workloads",
             str(directory / "workloads.yaml"), "--listen", listen] + FAST,
            stdout=subprocess.PIPE, stderr=open(directory / "controller.log", "a"), text=True)
        threading.Thread(target=self._read, daemon=True).start()
        first = self.expect("listening")
        self.address = first.split()[1]

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def expect(self, prefix, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"controller printed no line starting with {prefix!r}"
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)


class Agent:
    def __init__(self, directory, host, controller_address):
        self.status_path = directory / f"{host}.json"
        self.process = subprocess.Popen(
            [AGENT, "--controller", controller_address, "--host", host, "--status", str(self.status_path),
             "--reconnect-initial-ms", "50", "--reconnect-max-ms", "400"] + FAST +
            [arg for probe in PROBES[host] for arg in ("--probe", probe)],
            stderr=open(directory / f"{host}.log", "a"))

    def status(self):
        try:
            with open(self.status_path) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def wait_for(self, predicate, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status is not None and predicate(status):
                return status
            time.sleep(0.02)
        pytest.fail(f"{self.status_path.name}: never {what}; last status: {self.status()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def estate(tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY % 8080)
    (tmp_path / "workloads.yaml").write_text(WORKLOADS)
    started = []

    def start_controller(listen="127.0.0.1:0"):
        c = Controller(tmp_path, listen)
        started.append(c)
        return c

    def start_agent(host, address):
        a = Agent(tmp_path, host, address)
        started.append(a)
        return a

    yield tmp_path, start_controller, start_agent
    for process in reversed(started):
        process.stop()


def allows(port):
    return lambda s: s["synced"] and s["probes"][str(port)] == "allow" and \
        all(v == "drop" for k, v in s["probes"].items() if k != str(port))


def test_policy_change_reaches_both_agents(estate):
    directory, start_controller, start_agent = estate
    controller = start_controller()
    agents = [start_agent("h1", controller.address), start_agent("h2", controller.address)]
    for agent in agents:
        status = agent.wait_for(allows(8080), "synced with 8080 allowed")
        assert status["connected"] and status["snapshots_applied"] == 1

    (directory / "policy.yaml").write_text(POLICY % 9090)
    controller.process.send_signal(signal.SIGHUP)
    change = controller.expect("change ")
    assert "kind=policy" in change and "hosts=2" in change and "pending=h1,h2" in change
    converged = controller.expect("converged ")
    fields = dict(item.split("=", 1) for item in converged.split()[2:])
    assert fields["kind"] == "policy" and fields["hosts"] == "2" and fields["ports"] == "2"
    assert int(fields["messages"]) == 4  # a delta to each host and its ack
    assert int(fields["convergence_ns"]) > 0

    for agent in agents:
        status = agent.wait_for(allows(9090), "enforcing 9090 instead of 8080")
        assert status["deltas_applied"] == 1
        assert status["applied_generation"] == int(fields["generation"])


def test_agents_keep_enforcing_without_controller_and_resync_after_restart(estate):
    directory, start_controller, start_agent = estate
    controller = start_controller()
    address = controller.address
    agents = [start_agent("h1", address), start_agent("h2", address)]
    for agent in agents:
        agent.wait_for(allows(8080), "synced with 8080 allowed")

    controller.stop(signal.SIGKILL)
    for agent in agents:
        # The status file is rewritten (probes re-run) when the agent notices the loss.
        status = agent.wait_for(lambda s: not s["connected"], "disconnected")
        assert allows(8080)(dict(status, synced=True)), status
    time.sleep(1.0)  # several failed reconnects
    for agent in agents:
        assert agent.process.poll() is None
        assert agent.status()["probes"]["8080"] == "allow"

    # The policy changes while the controller is down; the new controller resynchronizes both.
    (directory / "policy.yaml").write_text(POLICY % 9090)
    start_controller(address)
    for agent in agents:
        status = agent.wait_for(allows(9090), "resynchronized to 9090")
        assert status["connections"] == 2 and status["snapshots_applied"] == 2


def run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


def test_bad_policy_exits_2_with_file_line(tmp_path):
    (tmp_path / "policy.yaml").write_text(
        "rules:\n  - name: r\n    from: {tier: web}\n    to: any\n    action: allow\n")
    (tmp_path / "workloads.yaml").write_text(WORKLOADS)
    result = run([CONTROLLER, "--policy", str(tmp_path / "policy.yaml"), "--workloads",
                  str(tmp_path / "workloads.yaml"), "--listen", "127.0.0.1:0"])
    assert result.returncode == 2
    assert f"{tmp_path / 'policy.yaml'}:3:" in result.stderr and 'unknown label key "tier"' in result.stderr


def test_bad_workloads_exit_2_with_file_line(tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY % 80)
    (tmp_path / "workloads.yaml").write_text(
        "workloads:\n  - {id: 1, host: h1, addresses: [10.0.0.300], labels: {role: web}}\n")
    result = run([CONTROLLER, "--policy", str(tmp_path / "policy.yaml"), "--workloads",
                  str(tmp_path / "workloads.yaml"), "--listen", "127.0.0.1:0"])
    assert result.returncode == 2
    assert "workloads[0].addresses[0]" in result.stderr
    assert '"10.0.0.300" is not an IPv4 or IPv6 host address' in result.stderr
    assert ":2:" in result.stderr


def test_bad_arguments_exit_2(tmp_path):
    result = run([AGENT, "--controller", "127.0.0.1:6500", "--host", "h1", "--probe", "p=1:sideways:tcp:1.2.3.4:5.6.7.8:80"])
    assert result.returncode == 2 and 'direction "sideways"' in result.stderr
    result = run([AGENT, "--controller", "nowhere", "--host", "h1"])
    assert result.returncode == 2 and "expected HOST:PORT" in result.stderr
    result = run([AGENT, "--host", "h1"])
    assert result.returncode == 2 and "controller" in result.stderr
    (tmp_path / "policy.yaml").write_text(POLICY % 80)
    (tmp_path / "workloads.yaml").write_text(WORKLOADS)
    result = run([CONTROLLER, "--policy", str(tmp_path / "policy.yaml"), "--workloads",
                  str(tmp_path / "workloads.yaml"), "--listen", "127.0.0.1:99999"])
    assert result.returncode == 2 and "is beyond 65535" in result.stderr
    result = run([CONTROLLER, "--policy", str(tmp_path / "missing.yaml"), "--workloads",
                  str(tmp_path / "workloads.yaml"), "--listen", "127.0.0.1:0"])
    assert result.returncode == 2 and "missing.yaml" in result.stderr
