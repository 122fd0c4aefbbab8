"""`segsim-dfw verdicts` on its own (no root needed): verdict lines for a short frame sequence, the
tcp_loose option, and input errors naming file:line:field with exit status 2.

Environment: SEGSIM_DFW_BIN = path of segsim-dfw.
"""

import os
import subprocess

from scapy.all import IP, TCP, UDP, Ether

VM, PEER = "10.0.1.2", "10.0.2.2"
MAC_VM, MAC_FW = "02:00:00:00:01:02", "02:00:00:00:01:01"
POLICY = """# comment
default drop
rule 1 allow dir out proto tcp dport 80
rule 6 drop dir out proto tcp dport 23
rule 3 allow dir out proto udp dst 10.0.2.0/24 dport 53
rule 9 reject dir out proto tcp dport 25
"""


def out(l4):
    return bytes(Ether(src=MAC_VM, dst=MAC_FW) / IP(src=VM, dst=PEER) / l4).hex()


def inn(l4):
    return bytes(Ether(src=MAC_FW, dst=MAC_VM) / IP(src=PEER, dst=VM) / l4).hex()


def run(tmp_path, policy, lines):
    rules = tmp_path / "policy.txt"
    rules.write_text(policy)
    packets = tmp_path / "packets.txt"
    packets.write_text("".join(line + "\n" for line in lines))
    return subprocess.run([os.environ["SEGSIM_DFW_BIN"], "verdicts", "--rules", str(rules),
                           "--packets", str(packets)], capture_output=True, text=True, timeout=30)


def test_verdicts_follow_the_policy_and_the_connection(tmp_path):
    proc = run(tmp_path, POLICY, [
        f"egress 1000 {out(TCP(sport=4000, dport=80, flags='S', seq=1))}",
        f"ingress 2000 {inn(TCP(sport=80, dport=4000, flags='SA', seq=9, ack=2))}",
        f"egress 3000 {out(TCP(sport=4001, dport=80, flags='A', seq=1, ack=1))}",
        f"egress 4000 {out(TCP(sport=4002, dport=23, flags='S'))}",
        f"egress 5000 {out(UDP(sport=5353, dport=53))}",
        f"egress 6000 {out(UDP(sport=5353, dport=54))}",
        f"egress 7000 {out(TCP(sport=4003, dport=80, flags='SF'))}",
        "# frames may be commented out",
        f"egress 8000 {out(UDP())[:40]}",
        f"egress 9000 {out(TCP(sport=4004, dport=25, flags='S', seq=41))}",
    ])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:-1] == [
        "0 allow none rule=1 conn=new reply=-",
        "1 allow none rule=1 conn=hit reply=-",
        "2 drop invalid_state rule=-1 conn=- reply=-",
        "3 drop rule_drop rule=6 conn=- reply=-",
        "4 allow none rule=3 conn=new reply=-",
        "5 drop default_drop rule=-1 conn=- reply=-",
        "6 drop invalid_state rule=-1 conn=- reply=-",
        "7 drop truncated rule=-1 conn=- reply=-",
    ]
    # The reject rule answers the SYN with an RST/ACK from the peer, in hex.
    head, reply = lines[-1].split(" reply=")
    assert head == "8 drop rule_reject rule=9 conn=-"
    rst = Ether(bytes.fromhex(reply))
    assert (rst[IP].src, rst[IP].dst, rst[TCP].sport, rst[TCP].dport) == (PEER, VM, 25, 4004)
    assert (str(rst[TCP].flags), rst[TCP].seq, rst[TCP].ack) == ("RA", 0, 42)


def test_tcp_loose_option_picks_up_mid_stream_acks(tmp_path):
    ack = f"egress 1000 {out(TCP(sport=4001, dport=80, flags='A', seq=1, ack=1))}"
    strict = run(tmp_path, POLICY, [ack])
    loose = run(tmp_path, "option tcp_loose on\n" + POLICY, [ack])
    assert strict.stdout == "0 drop invalid_state rule=-1 conn=- reply=-\n"
    assert loose.stdout == "0 allow none rule=1 conn=new reply=-\n"


def test_bad_input_names_file_line_and_field(tmp_path):
    frame = f"egress 1 {out(UDP())}"
    cases = [
        (POLICY + "rule 7 allow dport 80-x\n", [frame], "policy.txt:7: dport: expected A or A-B"),
        (POLICY + "rule 7 allow src 10.0.0.300\n", [frame], "policy.txt:7: src: bad prefix list"),
        (POLICY + "allow everything\n", [frame], "policy.txt:7: allow: unknown statement"),
        ("option tcp_loose maybe\n", [frame], "policy.txt:1: option:"),
        (POLICY, [frame, "sideways 2 00"], "packets.txt:2: direction: expected egress|ingress"),
        (POLICY, [frame, "egress 0 0011"], "packets.txt:2: time: goes backwards"),
        (POLICY, ["egress 1 0g"], "packets.txt:1: hex: not a hex digit at column 1"),
        (POLICY, ["egress 1 001"], "packets.txt:1: hex: odd number of digits"),
    ]
    for policy, lines, message in cases:
        proc = run(tmp_path, policy, lines)
        assert proc.returncode == 2, message
        assert message in proc.stderr, (message, proc.stderr)
        assert proc.stdout == ""
