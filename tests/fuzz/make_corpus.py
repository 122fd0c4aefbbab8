#!/usr/bin/python3
"""Writes the seed corpus for the dfw fuzzers (tests/fuzz/corpus/). Run from anywhere:
    /usr/bin/python3 tests/fuzz/make_corpus.py
Frames are built by hand with struct so no third-party module is needed. The state-import seeds
are blobs written by Datapath::export_port (see README.md)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MAC = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1])


def v4(a):
    return bytes(int(x) for x in a.split("."))


def eth(ethertype, payload, vlans=()):
    tags = b"".join(struct.pack("!HH", t, 100) for t in vlans)
    return MAC + tags + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, l4, ident=1, frag=0, more=False, options=b""):
    ihl = (20 + len(options)) // 4
    flags = (frag // 8) | (0x2000 if more else 0)
    return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(options) + len(l4), ident,
                       flags, 64, proto, 0, v4(src), v4(dst)) + options + l4


def ipv6(src_last, dst_last, nxt, rest):
    src = bytes(15) + bytes([src_last])
    dst = bytes(15) + bytes([dst_last])
    return struct.pack("!IHBB", 0x60000000, len(rest), nxt, 64) + src + dst + rest


def tcp(sport, dport, flags, seq=0, ack=0, win=65535, options=b"", payload=0):
    off = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, win, 0, 0) + \
        options + bytes(payload)


def udp(sport, dport, payload=0):
    return struct.pack("!HHHH", sport, dport, 8 + payload, 0) + bytes(payload)


def icmp(t, code, ident=0, seq=0, body=b""):
    return struct.pack("!BBHHH", t, code, 0, ident, seq) + body


def record(frame, ingress=False, port2=False, tso=False, expire=False, step=0):
    control = (1 if ingress else 0) | (2 if port2 else 0) | (4 if tso else 0) | \
        (8 if expire else 0) | (step << 4)
    return struct.pack("<BH", control, len(frame)) + frame


VM, PEER = "192.168.1.1", "192.168.1.2"
SYN, ACK, FIN, RST, PSH = 2, 16, 1, 4, 8
WS = bytes([1, 3, 3, 7])

seeds = {
    "tcp_handshake_close": b"\x00" + b"".join([
        record(eth(0x800, ipv4(VM, PEER, 6, tcp(4000, 80, SYN, 100, 0, 1000, WS)))),
        record(eth(0x800, ipv4(PEER, VM, 6, tcp(80, 4000, SYN | ACK, 900, 101, 2000, WS))), ingress=True),
        record(eth(0x800, ipv4(VM, PEER, 6, tcp(4000, 80, ACK, 101, 901, 1000)))),
        record(eth(0x800, ipv4(VM, PEER, 6, tcp(4000, 80, ACK | PSH, 101, 901, 1000, payload=40)))),
        record(eth(0x800, ipv4(VM, PEER, 6, tcp(4000, 80, ACK, 141, 901, 1000))), tso=True),
        record(eth(0x800, ipv4(PEER, VM, 6, tcp(80, 4000, FIN | ACK, 901, 141, 2000))), ingress=True),
        record(eth(0x800, ipv4(VM, PEER, 6, tcp(4000, 80, FIN | ACK, 141, 902, 1000)))),
        record(eth(0x800, ipv4(PEER, VM, 6, tcp(80, 4000, ACK, 902, 142, 2000))), ingress=True,
               expire=True, step=15),
    ]),
    "tcp_invalid_and_reject": b"\x02" + b"".join([
        record(eth(0x800, ipv4(VM, PEER, 6, tcp(1, 22, SYN, 5)))),
        record(eth(0x800, ipv4(VM, PEER, 6, tcp(1, 23, SYN | FIN, 5)))),
        record(eth(0x800, ipv4(PEER, VM, 6, tcp(9, 8, ACK, 5, 6))), ingress=True),
        record(eth(0x800, ipv4(VM, PEER, 6, tcp(1, 80, 0x29, 5)))),
    ]),
    "udp_icmp": b"\x01" + b"".join([
        record(eth(0x800, ipv4(VM, PEER, 17, udp(5000, 53, 20)))),
        record(eth(0x800, ipv4(VM, PEER, 17, udp(5000, 5353, 20)))),
        record(eth(0x800, ipv4(PEER, VM, 17, udp(5353, 5000, 20))), ingress=True),
        record(eth(0x800, ipv4(VM, PEER, 1, icmp(8, 0, 7, 1)))),
        record(eth(0x800, ipv4(PEER, VM, 1, icmp(0, 0, 7, 1))), ingress=True),
        record(eth(0x800, ipv4("10.9.9.9", VM, 1,
                               icmp(3, 3, body=ipv4(VM, PEER, 17, udp(5000, 5353))))), ingress=True),
        record(eth(0x806, struct.pack("!HHBBH", 1, 0x800, 6, 4, 1) + bytes(20))),
        record(eth(0x88CC, bytes(30))),
    ]),
    "fragments_vlan_options": b"\x10" + b"".join([
        record(eth(0x800, ipv4(VM, PEER, 17, udp(1, 2, 64), ident=9, more=True), vlans=(0x88A8, 0x8100))),
        record(eth(0x800, ipv4(VM, PEER, 17, bytes(32), ident=9, frag=72), vlans=(0x8100,))),
        record(eth(0x800, ipv4(VM, PEER, 17, bytes(32), ident=10, frag=72))),
        record(eth(0x800, ipv4(VM, PEER, 17, udp(1, 3), options=bytes([1, 1, 148, 4, 0, 0, 0, 0])))),
    ]),
    "ipv6_extensions": b"\x00" + b"".join([
        record(eth(0x86DD, ipv6(1, 2, 0, bytes([43, 0, 1, 4, 0, 0, 0, 0]) +
                                bytes([44, 0, 0, 0, 0, 0, 0, 0]) +
                                struct.pack("!BBHI", 6, 0, 1, 77) + tcp(1, 443, SYN, 1)))),
        record(eth(0x86DD, ipv6(1, 2, 44, struct.pack("!BBHI", 6, 0, 72, 77) + bytes(16)))),
        record(eth(0x86DD, ipv6(2, 1, 58, icmp(129, 0, 3))), ingress=True),
        record(eth(0x86DD, ipv6(1, 2, 58, icmp(128, 0, 3)))),
        record(eth(0x86DD, ipv6(1, 2, 58, icmp(135, 0)))),
    ]),
}

os.makedirs(os.path.join(HERE, "corpus", "datapath"), exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(HERE, "corpus", "datapath", name), "wb") as f:
        f.write(data)
print("wrote", len(seeds), "datapath seeds")
