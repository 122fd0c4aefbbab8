"""The packet sequences sent through both firewalls, in order, and the intended differences.

Every IPv4 packet carries a unique IP identification (fragments of one datagram share it and
differ by offset) and every IPv6 packet a unique flow label, so a frame seen on the far side of
the routing namespace is matched to the frame sent without relying on timing. Sequences use
distinct ports so they never share a connection.
"""

from dataclasses import dataclass
from typing import Callable, Optional

from scapy.all import (ICMP, IP, TCP, UDP, Ether, ICMPv6DestUnreach, ICMPv6EchoReply,
                       ICMPv6EchoRequest, IPOption_NOP, IPv6, IPv6ExtHdrDestOpt, Raw, fragment)

from netns_lab import FW_VM4, FW_VM6, MAC, PEER4, PEER6, PEER_IF, VM4, VM6, VM_IF
from policy import FW_PEER_IF, FW_VM_IF


@dataclass(frozen=True)
class Difference:
    dfw: str      # allow | drop
    kernel: str
    why: str
    # Kernels older than this behave like dfw here: the packet is then expected to agree.
    min_kernel: tuple = (0, 0)


# Each one is a row of the "Differential test against nftables" table in docs/dfw.md.
DIFFERENCES = {
    "fragment_held": Difference(
        "allow", "drop",
        "Linux (nf_defrag) holds a first fragment until the datagram is complete; dfw classifies "
        "the first fragment and passes it at once"),
    "fragment_out_of_order": Difference(
        "drop", "allow",
        "a later fragment arriving before its first: Linux reassembles and forwards it with the "
        "datagram; dfw has no reassembly buffers and drops it (fragment_no_first)"),
    "tcp_below_window": Difference(
        "drop", "allow",
        "since Linux 6.0 tcp_in_window() lets through, without updating state, a segment whose data "
        "lies wholly below the window (already-ACKed data retransmitted) or whose ACK is below the "
        "lower bound (overly delayed): NFCT_TCP_IGNORE; dfw keeps the older check and drops it "
        "(out_of_window)",
        min_kernel=(6, 0)),
    "ip_header_checksum": Difference(
        "allow", "drop",
        "Linux ip_rcv drops a bad IPv4 header checksum before netfilter; dfw verifies no checksums"),
    "l4_checksum": Difference(
        "allow", "drop",
        "nf_conntrack_checksum marks a bad TCP/UDP checksum invalid (ct state invalid drop); dfw "
        "verifies no checksums (offloaded frames carry partial checksums)"),
}


@dataclass(frozen=True)
class AnswerDifference:
    why: str
    kernel_from_dfw: Callable[[str], str]  # the kernel's answer, given dfw's (reply_summary text)


# Differences in what a reject sends back (verdicts agree). Also rows of the docs/dfw.md table.
ANSWER_DIFFERENCES = {
    "reject_icmp_source": AnswerDifference(
        "a routing firewall sends its ICMP/ICMPv6 error from its own address on the sender's link; "
        "dfw sits on the vNIC with no address of its own and answers as the destination",
        lambda dfw: dfw.replace(f"{PEER4}->", f"{FW_VM4}->").replace(f"{PEER6}->", f"{FW_VM6}->")),
}


@dataclass
class Packet:
    index: int
    group: str
    label: str
    direction: str       # egress (VM -> peer) | ingress (peer -> VM)
    frame: bytes
    key: tuple
    difference: Optional[str] = None
    answer_difference: Optional[str] = None

    @property
    def near_if(self):
        return VM_IF if self.direction == "egress" else PEER_IF

    @property
    def far_if(self):
        return PEER_IF if self.direction == "egress" else VM_IF


def frame_key(frame: bytes):
    """(family, source, destination, id-or-flow-label, fragment offset) of an Ethernet frame, or
    None if it is not IP or too short."""
    if len(frame) < 14:
        return None
    ethertype = int.from_bytes(frame[12:14], "big")
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20:
        return (4, ip[12:16], ip[16:20], int.from_bytes(ip[4:6], "big"),
                int.from_bytes(ip[6:8], "big") & 0x1FFF)
    if ethertype == 0x86DD and len(ip) >= 40:
        return (6, ip[8:24], ip[24:40], int.from_bytes(ip[1:4], "big") & 0xFFFFF, 0)
    return None


def reply_summary(frame: bytes):
    """What a firewall-generated answer says (TCP RST or ICMP/ICMPv6 error), or None for any other
    frame (the routing namespace's own IPv6 multicast listener reports, ...)."""
    pkt = Ether(frame)
    if TCP in pkt and pkt[TCP].flags.R:
        ip = pkt[IP] if IP in pkt else pkt[IPv6]
        t = pkt[TCP]
        return f"tcp {t.flags} {ip.src}:{t.sport}->{ip.dst}:{t.dport} seq={t.seq} ack={t.ack}"
    if ICMP in pkt and pkt[ICMP].type in (3, 11, 12):
        return f"icmp {pkt[IP].src}->{pkt[IP].dst} type={pkt[ICMP].type} code={pkt[ICMP].code}"
    if IPv6 in pkt and pkt[IPv6].nh == 58:
        icmp6 = bytes(pkt[IPv6].payload)
        if icmp6 and icmp6[0] < 128:  # error messages
            return f"icmpv6 {pkt[IPv6].src}->{pkt[IPv6].dst} type={icmp6[0]} code={icmp6[1]}"
    return None


class Sequences:
    def __init__(self):
        self.packets = []
        self._next_id = 0x1000
        self._group = ""

    def group(self, name):
        self._group = name

    def new_id(self):
        self._next_id += 1
        return self._next_id

    def add(self, direction, label, l3, difference=None, key=None, frame=None,
            answer_difference=None):
        """Adds one frame. `l3` is a scapy IP/IPv6 packet; its id / flow label is made unique
        unless set. `frame` overrides the bytes (malformed frames), `key` the match key."""
        if isinstance(l3, IP) and "id" not in l3.fields:
            l3.id = self.new_id()
        if isinstance(l3, IPv6) and "fl" not in l3.fields:
            l3.fl = self.new_id()
        src, dst = (MAC[VM_IF], MAC[FW_VM_IF]) if direction == "egress" else (MAC[PEER_IF],
                                                                                MAC[FW_PEER_IF])
        built = bytes(Ether(src=src, dst=dst) / l3)
        frame = built if frame is None else frame
        key = key or frame_key(built)
        if any(p.key == key for p in self.packets):
            raise ValueError(f"{self._group}/{label}: duplicate match key {key}")
        if difference is not None and difference not in DIFFERENCES:
            raise ValueError(f"{self._group}/{label}: unknown difference {difference}")
        if answer_difference is not None and answer_difference not in ANSWER_DIFFERENCES:
            raise ValueError(f"{self._group}/{label}: unknown answer difference {answer_difference}")
        self.packets.append(Packet(len(self.packets), self._group, label, direction, frame, key,
                                   difference, answer_difference))

    def out(self, label, l3, **kw):
        self.add("egress", label, l3, **kw)

    def inn(self, label, l3, **kw):
        self.add("ingress", label, l3, **kw)


def _tcp_out(v6, sport, dport, flags, seq, ack=0, load=b"", **tcp):
    ip = IPv6(src=VM6, dst=PEER6) if v6 else IP(src=VM4, dst=PEER4)
    pkt = ip / TCP(sport=sport, dport=dport, flags=flags, seq=seq % 2**32,
                     ack=ack % 2**32, window=8192, **tcp)
    return pkt / Raw(load) if load else pkt


def _tcp_in(v6, sport, dport, flags, seq, ack=0, load=b"", **tcp):
    ip = IPv6(src=PEER6, dst=VM6) if v6 else IP(src=PEER4, dst=VM4)
    pkt = ip / TCP(sport=sport, dport=dport, flags=flags, seq=seq % 2**32,
                     ack=ack % 2**32, window=8192, **tcp)
    return pkt / Raw(load) if load else pkt


def _vm_opens(s, name, vm_port, peer_port, v6=False, a=1000, b=5000, teardown="fin"):
    """VM connects to the peer: handshake, data both ways, then FIN or RST teardown."""
    s.group(name)
    o = lambda *args, **kw: _tcp_out(v6, vm_port, peer_port, *args, **kw)  # noqa: E731
    i = lambda *args, **kw: _tcp_in(v6, peer_port, vm_port, *args, **kw)   # noqa: E731
    s.out("SYN", o("S", a))
    s.inn("SYN/ACK", i("SA", b, a + 1))
    s.out("ACK", o("A", a + 1, b + 1))
    s.out("data", o("PA", a + 1, b + 1, b"x" * 100))
    s.inn("ACK of data", i("A", b + 1, a + 101))
    s.inn("reply data", i("PA", b + 1, a + 101, b"y" * 200))
    s.out("ACK of reply", o("A", a + 101, b + 201))
    if teardown == "fin":
        s.out("FIN", o("FA", a + 101, b + 201))
        s.inn("ACK of FIN", i("A", b + 201, a + 102))
        s.inn("peer FIN", i("FA", b + 201, a + 102))
        s.out("last ACK", o("A", a + 102, b + 202))
        s.out("ACK in TIME_WAIT", o("A", a + 102, b + 202))
        s.out("new SYN reopens from TIME_WAIT", o("S", a + 100000))
        s.inn("SYN/ACK of the reopened connection", i("SA", b + 100000, a + 100001))
    else:
        s.inn("peer RST", i("R", b + 201))
        s.out("data after RST", o("PA", a + 101, b + 201, b"z" * 10))


def build_sequences():
    s = Sequences()

    # TCP handshakes, data, FIN and RST teardown, IPv4 and IPv6.
    _vm_opens(s, "tcp4 VM->peer:80 FIN", 40001, 80)
    _vm_opens(s, "tcp4 VM->peer:80 RST", 40002, 80, teardown="rst")
    _vm_opens(s, "tcp6 VM->peer:443 FIN", 40003, 443, v6=True)
    _vm_opens(s, "tcp6 VM->peer:80 RST", 40004, 80, v6=True, teardown="rst")

    s.group("tcp4 peer->VM:22, VM resets")
    a, b = 7000, 9000
    s.inn("SYN", _tcp_in(False, 50001, 22, "S", a))
    s.out("SYN/ACK", _tcp_out(False, 22, 50001, "SA", b, a + 1))
    s.inn("ACK", _tcp_in(False, 50001, 22, "A", a + 1, b + 1))
    s.inn("data", _tcp_in(False, 50001, 22, "PA", a + 1, b + 1, b"k" * 64))
    s.out("RST/ACK", _tcp_out(False, 22, 50001, "RA", b + 1, a + 65))
    s.inn("data after RST", _tcp_in(False, 50001, 22, "PA", a + 65, b + 1, b"k" * 8))

    # Out-of-window segments and unsolicited ACKs on an established connection.
    s.group("tcp4 window checks")
    a, b = 20000, 30000
    o = lambda *args, **kw: _tcp_out(False, 40010, 80, *args, **kw)  # noqa: E731
    i = lambda *args, **kw: _tcp_in(False, 80, 40010, *args, **kw)   # noqa: E731
    s.out("SYN", o("S", a))
    s.inn("SYN/ACK", i("SA", b, a + 1))
    s.out("ACK", o("A", a + 1, b + 1))
    s.out("data far beyond the window", o("PA", a + 1 + 1_000_000, b + 1, b"w" * 10))
    s.out("data far behind the window", o("PA", a + 1 - 1_000_000, b + 1, b"w" * 10),
          difference="tcp_below_window")
    s.inn("ACK of data never sent", i("A", b + 1, a + 1 + 500_000))
    s.inn("ACK far below the window", i("A", b + 1, a + 1 - 500_000),
          difference="tcp_below_window")
    s.inn("RST out of window", i("R", b + 1 + 1_000_000))
    s.out("in-window data still passes", o("PA", a + 1, b + 1, b"w" * 10))
    s.inn("in-window ACK", i("A", b + 1, a + 11))

    s.group("unsolicited TCP")
    s.out("ACK, no connection", _tcp_out(False, 40020, 80, "A", 1, 1))
    s.inn("ACK to VM, no connection", _tcp_in(False, 50020, 22, "A", 1, 1))
    s.out("SYN/ACK, no connection", _tcp_out(False, 40021, 80, "SA", 1, 1))
    s.out("RST, no connection", _tcp_out(False, 40022, 80, "R", 1))
    s.out("data, no connection", _tcp_out(False, 40023, 80, "PA", 1, 1, b"d" * 5))
    s.out("IPv6 ACK, no connection", _tcp_out(True, 40024, 80, "A", 1, 1))

    s.group("stealth scans")
    for n, (name, flags) in enumerate([("SYN+FIN", "SF"), ("NULL", ""), ("Xmas", "FPU"),
                                       ("FIN", "F"), ("SYN+RST", "SR")]):
        s.out(f"{name} to allowed :80", _tcp_out(False, 40030 + n, 80, flags, 100))
        s.inn(f"{name} to allowed VM:22", _tcp_in(False, 50030 + n, 22, flags, 100))

    s.group("port scan")
    for n, port in enumerate([21, 22, 23, 25, 79, 80, 81, 443, 8080]):
        s.out(f"SYN to peer:{port}", _tcp_out(False, 41000 + n, port, "S", 500 + n))
    s.inn("peer:80 answers closed (RST/ACK)", _tcp_in(False, 80, 41005, "RA", 0, 506))
    for n, port in enumerate([21, 22, 23, 80]):
        s.inn(f"SYN to VM:{port}", _tcp_in(False, 51000 + n, port, "S", 700 + n))
    s.out("IPv6 SYN to peer:443", _tcp_out(True, 41100, 443, "S", 1))
    s.out("IPv6 SYN to peer:22", _tcp_out(True, 41101, 22, "S", 1))
    s.out("IPv6 SYN to rejected :25", _tcp_out(True, 41102, 25, "S", 77))
    s.out("ACK to rejected :25, no connection", _tcp_out(False, 41103, 25, "A", 5, 9))

    s.group("udp")
    s.out("DNS request", IP(src=VM4, dst=PEER4) / UDP(sport=33333, dport=53) / Raw(b"q" * 20))
    s.inn("DNS response", IP(src=PEER4, dst=VM4) / UDP(sport=53, dport=33333) / Raw(b"r" * 60))
    s.out("second request", IP(src=VM4, dst=PEER4) / UDP(sport=33333, dport=53) / Raw(b"q" * 20))
    s.inn("unsolicited to VM:53", IP(src=PEER4, dst=VM4) / UDP(sport=53, dport=33334))
    s.out("request to denied :54", IP(src=VM4, dst=PEER4) / UDP(sport=33335, dport=54))
    s.inn("response from :54", IP(src=PEER4, dst=VM4) / UDP(sport=54, dport=33335))
    s.out("TFTP to rejected :69", IP(src=VM4, dst=PEER4) / UDP(sport=33339, dport=69),
          answer_difference="reject_icmp_source")
    s.out("IPv6 TFTP to rejected :69", IPv6(src=VM6, dst=PEER6) / UDP(sport=33339, dport=69),
          answer_difference="reject_icmp_source")
    s.out("IPv6 DNS request", IPv6(src=VM6, dst=PEER6) / UDP(sport=33336, dport=53))
    s.inn("IPv6 DNS response", IPv6(src=PEER6, dst=VM6) / UDP(sport=53, dport=33336))
    s.out("IPv6 with destination options", IPv6(src=VM6, dst=PEER6) / IPv6ExtHdrDestOpt() /
          UDP(sport=33337, dport=53))
    s.out("IPv4 with NOP options", IP(src=VM4, dst=PEER4, options=[IPOption_NOP()] * 4) /
          UDP(sport=33338, dport=53))

    s.group("icmp")
    s.out("echo request", IP(src=VM4, dst=PEER4) / ICMP(type=8, id=0x100, seq=1))
    s.inn("echo reply", IP(src=PEER4, dst=VM4) / ICMP(type=0, id=0x100, seq=1))
    s.inn("echo reply without request", IP(src=PEER4, dst=VM4) / ICMP(type=0, id=0x200, seq=1))
    s.inn("echo request to VM (no rule)", IP(src=PEER4, dst=VM4) / ICMP(type=8, id=0x300))
    s.inn("port unreachable quoting the tracked DNS flow",
          IP(src=PEER4, dst=VM4) / ICMP(type=3, code=3) /
          IP(src=VM4, dst=PEER4, id=0x0F00) / UDP(sport=33333, dport=53))
    s.inn("port unreachable quoting an untracked flow",
          IP(src=PEER4, dst=VM4) / ICMP(type=3, code=3) /
          IP(src=VM4, dst=PEER4, id=0x0F01) / UDP(sport=33399, dport=53))
    s.inn("host unreachable quoting the tracked TCP :80 flow",
          IP(src=PEER4, dst=VM4) / ICMP(type=3, code=1) /
          IP(src=VM4, dst=PEER4, id=0x0F02) / TCP(sport=40010, dport=80, flags="PA", seq=20001))
    s.inn("time exceeded quoting the tracked DNS flow",
          IP(src=PEER4, dst=VM4) / ICMP(type=11, code=0) /
          IP(src=VM4, dst=PEER4, id=0x0F03) / UDP(sport=33333, dport=53))
    s.out("echo request of a denied type (timestamp)", IP(src=VM4, dst=PEER4) / ICMP(type=13))
    s.out("IPv6 echo request", IPv6(src=VM6, dst=PEER6) / ICMPv6EchoRequest(id=0x100))
    s.inn("IPv6 echo reply", IPv6(src=PEER6, dst=VM6) / ICMPv6EchoReply(id=0x100))
    s.inn("IPv6 echo reply without request", IPv6(src=PEER6, dst=VM6) / ICMPv6EchoReply(id=0x999))
    s.inn("IPv6 port unreachable quoting the tracked DNS flow",
          IPv6(src=PEER6, dst=VM6) / ICMPv6DestUnreach(code=4) /
          IPv6(src=VM6, dst=PEER6, fl=0xF00) / UDP(sport=33336, dport=53))
    s.inn("IPv6 port unreachable quoting an untracked flow",
          IPv6(src=PEER6, dst=VM6) / ICMPv6DestUnreach(code=4) /
          IPv6(src=VM6, dst=PEER6, fl=0xF01) / UDP(sport=33399, dport=53))

    s.group("ipv4 fragments")

    def datagram(dport, sport):
        d = IP(src=VM4, dst=PEER4, id=s.new_id()) / UDP(sport=sport, dport=dport) / Raw(b"f" * 40)
        return fragment(d, fragsize=24)  # two fragments of 24 bytes: offsets 0 and 3

    first, second = datagram(5000, 34000)
    s.out("allowed datagram, first fragment", first)
    s.out("allowed datagram, second fragment", second)
    first, second = datagram(6000, 34001)
    s.out("denied datagram, first fragment", first)
    s.out("denied datagram, second fragment", second)
    first, second = datagram(5000, 34002)
    s.out("later fragment alone", second)
    first, second = datagram(5000, 34003)
    s.out("first fragment alone", first, difference="fragment_held")
    first, second = datagram(5000, 34004)
    s.out("later fragment before its first", second, difference="fragment_out_of_order")
    s.out("its first fragment", first)

    s.group("malformed")
    udp53 = lambda **ip: IP(src=VM4, dst=PEER4, **ip) / UDP(sport=33400, dport=53)  # noqa: E731
    s.out("IPv4 IHL 4", udp53(ihl=4))
    s.out("IPv4 total length past the frame", udp53(len=200))
    s.out("IPv4 total length below the header", udp53(len=12))
    s.out("IPv4 bad header checksum", udp53(chksum=0x1234), difference="ip_header_checksum")
    s.out("IPv4 version 5", udp53(version=5))
    pkt = udp53()
    pkt.id = s.new_id()
    full = bytes(Ether(src=MAC[VM_IF], dst=MAC[FW_VM_IF]) / pkt)
    s.out("frame cut inside the IPv4 header", pkt, frame=full[:14 + 12])
    pkt = _tcp_out(False, 40050, 80, "S", 1)
    pkt.id = s.new_id()
    pkt.len = 30  # 10 bytes of a 20-byte TCP header
    s.out("TCP header cut by the IP length", pkt)
    s.out("TCP data offset 3", _tcp_out(False, 40051, 80, "S", 1, dataofs=3))
    s.out("TCP SYN to :80 with a bad checksum", _tcp_out(False, 40052, 80, "S", 1, chksum=0xBAD),
          difference="l4_checksum")
    s.out("UDP to :53 with a bad checksum",
          IP(src=VM4, dst=PEER4) / UDP(sport=33401, dport=53, chksum=0xBAD) / Raw(b"q"),
          difference="l4_checksum")
    s.out("IPv6 payload length past the frame",
          IPv6(src=VM6, dst=PEER6, plen=300) / UDP(sport=33402, dport=53))
    return s.packets


def build_loose_sequences():
    """Mid-stream pickup with tcp_loose on both sides (nf_conntrack_tcp_loose=1, dfw tcp_loose)."""
    s = Sequences()
    s.group("tcp_loose pickup VM->peer:80")
    o = lambda *args, **kw: _tcp_out(False, 42000, 80, *args, **kw)  # noqa: E731
    i = lambda *args, **kw: _tcp_in(False, 80, 42000, *args, **kw)   # noqa: E731
    s.out("mid-stream data picks the connection up", o("PA", 1000, 2000, b"m" * 10))
    s.inn("ACK", i("A", 2000, 1010))
    s.inn("reply data", i("PA", 2000, 1010, b"n" * 20))
    s.out("ACK of reply", o("A", 1010, 2020))
    s.out("data far ahead (liberal window)", o("PA", 1010 + 1_000_000, 2020, b"m" * 10))
    s.out("FIN", o("FA", 1010, 2020))
    s.inn("FIN/ACK", i("FA", 2020, 1011))
    s.out("last ACK", o("A", 1011, 2021))

    s.group("tcp_loose classification")
    s.out("mid-stream ACK to denied :8080", _tcp_out(False, 42001, 8080, "A", 1, 1))
    s.out("mid-stream ACK to dropped :23", _tcp_out(False, 42002, 23, "A", 1, 1))
    s.inn("mid-stream ACK to VM:22", _tcp_in(False, 52000, 22, "A", 1, 1))
    s.out("VM answers on the picked-up :22 flow", _tcp_out(False, 22, 52000, "A", 1, 1))
    s.inn("mid-stream ACK to VM:80", _tcp_in(False, 52001, 80, "A", 1, 1))
    s.out("IPv6 mid-stream data to :443", _tcp_out(True, 42003, 443, "PA", 1, 1, b"s" * 8))

    s.group("tcp_loose still invalid without ACK")
    s.out("FIN/ACK, no connection", _tcp_out(False, 42010, 80, "FA", 1, 1))
    s.out("RST, no connection", _tcp_out(False, 42011, 80, "R", 1))
    s.out("SYN/ACK, no connection", _tcp_out(False, 42012, 80, "SA", 1, 1))
    s.out("NULL scan", _tcp_out(False, 42013, 80, "", 1))

    s.group("tcp_loose handshake")
    s.out("SYN", _tcp_out(False, 42020, 80, "S", 100))
    s.inn("SYN/ACK", _tcp_in(False, 80, 42020, "SA", 300, 101))
    s.out("ACK", _tcp_out(False, 42020, 80, "A", 101, 301))
    return s.packets
