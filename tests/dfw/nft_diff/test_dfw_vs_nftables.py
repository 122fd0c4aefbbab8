"""Differential test: dfw against the Linux kernel firewall (nftables + conntrack).

The same policy (policy.py) runs in a routing namespace as an nftables forward chain and in a
one-port dfw::Datapath (`segsim-dfw verdicts`); the same frames (cases.py) go through both, in
the same order. The kernel's verdict for a frame is whether it came out on the far side; its
answer, what the firewall sent back to the sender meanwhile (a reject's RST or ICMP error). Every
frame must get the same verdict and answer from both, except the intended differences listed in
cases.DIFFERENCES / cases.ANSWER_DIFFERENCES (and docs/dfw.md), which must show up exactly as
listed.

Needs root (network namespaces, nftables). Without it the test fails: CI runs as root.
Environment: SEGSIM_DFW_BIN = path of segsim-dfw.
"""

import os
import subprocess
import time

import pytest

from cases import (ANSWER_DIFFERENCES, DIFFERENCES, build_loose_sequences, build_sequences,
                   frame_key, reply_summary)
from netns_lab import Lab, LabError
from policy import dfw_policy_text

# How long to wait for a frame to come out on the far side before calling it dropped. Forwarding
# takes microseconds; frames that arrive later still count (matched by key, drained at the end).
DROP_WAIT_S = 0.05
DRAIN_S = 0.3


def kernel_verdicts(lab, packets):
    """Sends the frames one by one; returns (verdict per packet, answers the firewall sent back
    per packet, send time in ns per packet)."""
    by_key = {p.key: p for p in packets}
    arrived = set()
    replies = [[] for _ in packets]
    current = {}

    def on_frame(ifname, data):
        key = frame_key(data)
        p = by_key.get(key)
        if p is None:
            sender = current.get("packet")
            summary = reply_summary(data)
            if sender is not None and summary and ifname == sender.near_if:
                replies[sender.index].append(summary)  # a reject's RST / ICMP error
            return False  # else unrelated traffic (IPv6 MLD of the routing namespace, ...)
        if ifname != p.far_if:
            return False
        arrived.add(key)
        return key == current.get("key")

    start = time.monotonic_ns()
    sent_at = []
    for p in packets:
        current["key"], current["packet"] = p.key, p
        sent_at.append(time.monotonic_ns() - start + 1_000_000_000)
        lab.send(p.near_if, p.frame)
        lab.receive(time.monotonic() + DROP_WAIT_S, on_frame)
    current["key"] = current["packet"] = None
    lab.receive(time.monotonic() + DRAIN_S, on_frame)
    return ["allow" if p.key in arrived else "drop" for p in packets], replies, sent_at


def dfw_verdicts(tmp_path, packets, sent_at, tcp_loose):
    rules = tmp_path / "policy.txt"
    rules.write_text(dfw_policy_text(tcp_loose=tcp_loose))
    frames = tmp_path / "packets.txt"
    frames.write_text("".join(f"{p.direction} {t} {p.frame.hex()}\n"
                              for p, t in zip(packets, sent_at)))
    binary = os.environ.get("SEGSIM_DFW_BIN")
    assert binary, "SEGSIM_DFW_BIN must name the segsim-dfw binary"
    out = subprocess.run([binary, "verdicts", "--rules", str(rules), "--packets", str(frames)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"segsim-dfw verdicts failed: {out.stderr}"
    lines = out.stdout.splitlines()
    assert len(lines) == len(packets), out.stdout
    results = []
    for n, line in enumerate(lines):
        index, verdict, reason, rule, conn, reply = line.split()
        assert int(index) == n
        answers = [] if reply == "reply=-" else \
            [reply_summary(bytes.fromhex(h)) for h in reply[len("reply="):].split(",")]
        results.append((verdict, reason, rule, conn, answers))
    return results


def kernel_version():
    release = os.uname().release
    parts = release.split("-")[0].split(".")
    return int(parts[0]), int(parts[1])


def require_root():
    if os.geteuid() != 0:
        pytest.fail("dfw_vs_nftables needs root (network namespaces, nftables); run it as root "
                    "as CI does")


def compare(tmp_path, packets, tcp_loose):
    """Runs `packets` through both firewalls and asserts packet-by-packet agreement, except the
    intended differences, which must show up exactly as listed."""
    require_root()
    try:
        with Lab(os.getpid(), tcp_loose=tcp_loose) as lab:
            kernel, kernel_replies, sent_at = kernel_verdicts(lab, packets)
    except LabError as e:
        pytest.fail(f"cannot build the namespace lab (root with netns and nftables needed): {e}")
    dfw = dfw_verdicts(tmp_path, packets, sent_at, tcp_loose)

    running = kernel_version()
    report, failures = [], []
    agree = differ_as_intended = 0
    answered = 0
    for p, k, k_replies, (verdict, reason, rule, conn, replies) in zip(packets, kernel,
                                                                      kernel_replies, dfw):
        line = (f"{p.index:3d} {p.direction:7s} {p.group} / {p.label}: kernel {k}, "
                f"dfw {verdict} ({reason} {rule} {conn})")
        if k_replies or replies:
            line += f"; answers: kernel {k_replies}, dfw {replies}"
        expected_answers = replies
        if p.answer_difference is not None:
            expected_answers = [ANSWER_DIFFERENCES[p.answer_difference].kernel_from_dfw(r)
                                for r in replies]
            line += f" [intended answer difference {p.answer_difference}]"
        if k_replies != expected_answers or (p.answer_difference and not replies):
            failures.append(f"{line}  [ANSWERS DIFFER]")
        answered += bool(replies)
        if p.difference is None or running < DIFFERENCES[p.difference].min_kernel:
            ok = verdict == k
            agree += ok
            tag = "agree" if ok else "MISMATCH"
        else:
            d = DIFFERENCES[p.difference]
            ok = verdict == d.dfw and k == d.kernel
            differ_as_intended += ok
            tag = f"intended difference {p.difference}" if ok else \
                f"EXPECTED DIFFERENCE {p.difference} (dfw {d.dfw}, kernel {d.kernel}) NOT SEEN"
        report.append(f"{line}  [{tag}]")
        if not ok:
            failures.append(report[-1])
    print("\n".join(report))
    summary = (f"{len(packets)} packets: {agree} agree, {differ_as_intended} intended differences, "
               f"{answered} answered by a reject, {len(failures)} failures")
    print(summary)
    assert not failures, summary + "\n" + "\n".join(failures)


def test_dfw_agrees_with_nftables(tmp_path):
    packets = build_sequences()
    # Every listed difference is exercised by at least one packet.
    assert {p.difference for p in packets if p.difference} == set(DIFFERENCES)
    assert {p.answer_difference for p in packets if p.answer_difference} == \
        set(ANSWER_DIFFERENCES)
    compare(tmp_path, packets, tcp_loose=False)


def test_dfw_agrees_with_nftables_tcp_loose(tmp_path):
    compare(tmp_path, build_loose_sequences(), tcp_loose=True)
