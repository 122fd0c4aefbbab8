"""Capture taps end to end: `segsim run` with outputs.pcap on a VM port and a fabric link writes
pcap files that tshark reads, whose frames match the run's own counters and the VMs' addresses.

Run by ctest (label `scenario`) with SEGSIM_BIN; needs /usr/bin/python3 with h5py and tshark
(scripts/install-deps).
"""

import math
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import h5py
import pytest

SEGSIM = os.environ["SEGSIM_BIN"]
SOURCE = Path(os.environ["SEGSIM_SOURCE_DIR"])
QUICKSTART = SOURCE / "scenarios" / "examples" / "quickstart.yaml"
MSS = 1460  # quickstart's transport.tcp.mss (the default)
VM = "app-0"  # a client of db and a server of web: both directions of TCP
LINK = "h0--leaf0"


def tshark_fields(path, *fields):
    """One tuple of strings per frame (first occurrence of each field: ICMP errors quote a second IP header)."""
    tshark = shutil.which("tshark")
    assert tshark, "tshark is missing: run scripts/install-deps"
    args = [tshark, "-r", str(path), "-n", "-T", "fields", "-E", "separator=,", "-E", "occurrence=f"]
    for f in fields:
        args += ["-e", f]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return [tuple(line.split(",")) for line in r.stdout.splitlines()]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("taps")
    out = d / "q.h5"
    r = subprocess.run([SEGSIM, "run", str(QUICKSTART), "-o", str(out), "--set", "duration=100ms",
                        "--set", f"outputs.pcap=[{VM}, {LINK}]"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return d, out, r.stdout


FIELDS = ("frame.len", "frame.cap_len", "frame.time_epoch", "ip.src", "ip.dst", "ip.proto", "ip.len",
          "tcp.srcport", "tcp.dstport", "tcp.len")


@pytest.fixture(scope="module")
def frames(run):
    """Every frame of each tap's file as a dict of FIELDS (one tshark pass per file)."""
    d, _, _ = run
    return {tap: [dict(zip(FIELDS, f)) for f in tshark_fields(d / f"{tap}.pcap", *FIELDS)] for tap in (VM, LINK)}


def table(path, name):
    with h5py.File(path, "r") as f:
        g = f[name]
        return {c: g[c][()] for c in g}


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def test_files_are_next_to_the_result_and_listed(run):
    d, out, stdout = run
    pcap = table(out, "/pcap")
    assert [text(t) for t in pcap["tap"]] == [VM, LINK]
    assert [text(k) for k in pcap["kind"]] == ["vm", "link"]
    assert [text(p) for p in pcap["path"]] == [str(d / f"{VM}.pcap"), str(d / f"{LINK}.pcap")]
    for name, packets in zip(pcap["tap"], pcap["packets"]):
        assert packets > 1000, name  # 100 ms of quickstart traffic: ~3k and ~50k frames
        assert f"{text(name)}: {packets} frames -> " in stdout
    assert not list(d.glob("*.tmp-*"))


@pytest.mark.parametrize("tap", [VM, LINK])
def test_tshark_reads_every_frame_the_table_counts(run, frames, tap):
    _, out, _ = run
    pcap = table(out, "/pcap")
    row = [text(t) for t in pcap["tap"]].index(tap)
    frames = frames[tap]
    assert len(frames) == pcap["packets"][row]
    assert sum(int(f["frame.len"]) for f in frames) == pcap["bytes"][row]
    assert all(int(f["frame.cap_len"]) == min(int(f["frame.len"]), 128) for f in frames)
    times = [float(f["frame.time_epoch"]) for f in frames]
    assert times == sorted(times)
    # A link frame accepted before the end may finish serializing after it: at most a full
    # 512 KiB port queue at 10 Gb/s (0.42 ms) later.
    assert 0 <= times[0] and times[-1] <= 0.100 + 0.00042


def test_link_tap_shows_the_links_wire_segments(run, frames):
    _, out, _ = run
    links = [text(n) for n in table(out, "/links")["name"]]
    series = table(out, "/series/links")
    last = {}
    for link, t, segments in zip(series["link"], series["time_ns"], series["segments"]):
        if link not in last or t >= last[link][0]:
            last[link] = (t, segments)
    directions = [links.index("h0->leaf-0"), links.index("leaf-0->h0")]
    assert len(frames[LINK]) == sum(last[i][1] for i in directions)
    # Wire segments: none larger than an MSS, IP length consistent with the frame length.
    for f in frames[LINK]:
        assert int(f["frame.len"]) <= 14 + 20 + 20 + MSS
        if f["tcp.len"]:
            assert int(f["tcp.len"]) <= MSS
            assert int(f["frame.len"]) == max(14 + int(f["ip.len"]), 60)


def test_vm_tap_matches_the_vms_flows_and_addresses(run, frames):
    _, out, _ = run
    vms = table(out, "/vms")
    names = [text(n) for n in vms["name"]]
    vm_index = names.index(VM)
    ip = text(vms["ipv4"][vm_index])
    assert frames[VM]
    assert all(ip in (f["ip.src"], f["ip.dst"]) for f in frames[VM])
    # Every segment app-0 sent as a flow's client is in the file: a frame is a (super-)packet of
    # ceil(tcp.len / MSS) segments (at least one), per 5-tuple as in /flows.
    seen = Counter()
    for f in frames[VM]:
        if f["ip.src"] == ip and f["ip.proto"] == "6":
            key = (f["ip.dst"], int(f["tcp.srcport"]), int(f["tcp.dstport"]))
            seen[key] += max(1, math.ceil(int(f["tcp.len"]) / MSS))
    flows = table(out, "/flows")
    expected = Counter()
    for i in range(len(flows["flow_id"])):
        if flows["source_vm"][i] == vm_index and flows["protocol"][i] == 6:
            dst = text(flows["destination_address"][i])
            expected[(dst, int(flows["source_port"][i]), int(flows["destination_port"][i]))] += int(flows["packets_sent"][i])
    # ...and nothing else it sent, except its answers as the server of other VMs' flows.
    served = set()
    for i in range(len(flows["flow_id"])):
        if flows["destination_vm"][i] == vm_index and flows["protocol"][i] == 6:
            served.add((text(flows["source_address"][i]), int(flows["destination_port"][i]), int(flows["source_port"][i])))
    assert expected, "app-0 opened no TCP flow in 100 ms"
    assert served, "no VM opened a TCP flow to app-0 in 100 ms"
    assert {k: n for k, n in seen.items() if k not in served} == expected
    drops = table(out, "/drops")
    assert all(not (text(r) == "vnic_queue_full" and n > 0) for r, n in zip(drops["reason"], drops["packets"]))


def test_a_run_failing_midway_leaves_no_capture(tmp_path):
    """A trace truncated halfway stops the run (exit 2) after the taps recorded packets."""
    data = (SOURCE / "scenarios" / "data" / "pcaps" / "var-services-std-ports.pcap").read_bytes()
    cut = tmp_path / "trace" / "cut.pcap"
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) // 2])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    r = subprocess.run([SEGSIM, "run", str(SOURCE / "scenarios" / "examples" / "pcap-replay.yaml"),
                        "-o", str(out_dir / "r.h5"), "--quiet", "--set", f"traffic.0.file={cut}",
                        "--set", "outputs.pcap=[workstation, web-server, h0--leaf0]"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stdout + r.stderr
    assert list(out_dir.iterdir()) == []


def read_pcap(path):
    """(snaplen from the file header, [(incl_len, orig_len)] per record), parsed with struct."""
    import struct
    data = Path(path).read_bytes()
    magic, _, _, _, _, snaplen, linktype = struct.unpack_from("<IHHiIII", data, 0)
    assert magic == 0xA1B23C4D and linktype == 1
    records, offset = [], 24
    while offset < len(data):
        _, _, incl, orig = struct.unpack_from("<IIII", data, offset)
        records.append((incl, orig))
        offset += 16 + incl
    assert offset == len(data)
    return snaplen, records


@pytest.mark.parametrize("snap", [64, 300])
def test_snap_length_is_a_scenario_key(tmp_path, snap):
    # outputs.pcap_snap_length: the file header says it, every record keeps min(frame, snap) bytes.
    out = tmp_path / "s.h5"
    r = subprocess.run([SEGSIM, "run", str(QUICKSTART), "-o", str(out), "--set", "duration=100ms",
                        "--set", f"outputs.pcap=[{VM}, {LINK}]", "--set", f"outputs.pcap_snap_length={snap}"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    for tap in (VM, LINK):
        snaplen, records = read_pcap(tmp_path / f"{tap}.pcap")
        assert snaplen == snap
        assert len(records) > 100
        assert all(incl == min(orig, snap) for incl, orig in records)
        assert any(orig > snap for _, orig in records)  # data frames really were cut
        # tshark agrees on the captured lengths.
        caps = [int(f[0]) for f in tshark_fields(tmp_path / f"{tap}.pcap", "frame.cap_len")]
        assert caps == [incl for incl, _ in records]


@pytest.mark.parametrize("value", ["13", "262145", "big"])
def test_bad_snap_length_is_refused_with_the_field(tmp_path, value):
    r = subprocess.run([SEGSIM, "run", str(QUICKSTART), "-o", str(tmp_path / "bad.h5"),
                        "--set", f"outputs.pcap=[{VM}]", "--set", f"outputs.pcap_snap_length={value}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "outputs.pcap_snap_length" in r.stderr
    assert not (tmp_path / "bad.h5").exists()


def test_dual_homed_host_has_a_tap_on_each_uplink(tmp_path):
    # uplinks_per_host: 2 links h0 to leaf0 and to its partner leaf1; both cables can be tapped
    # and both carry h0's traffic (active/active).
    out = tmp_path / "d.h5"
    r = subprocess.run([SEGSIM, "run", str(QUICKSTART), "-o", str(out), "--set", "duration=20ms",
                        "--set", "topology.fabric.uplinks_per_host=2",
                        "--set", "outputs.pcap=[h0--leaf0, h0--leaf1]"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    for tap in ("h0--leaf0", "h0--leaf1"):
        _, records = read_pcap(tmp_path / f"{tap}.pcap")
        assert len(records) > 100, tap
