"""The one policy both firewalls enforce, rendered for dfw (`segsim-dfw verdicts` text) and for
nftables (an inet table in the routing namespace).

The VM sits behind interface FW_VM_IF of the routing namespace and the peer behind FW_PEER_IF, so
dfw's egress (leaving the VM) is nftables' `iifname FW_VM_IF` and ingress is `iifname FW_PEER_IF`.
"""

from dataclasses import dataclass
from typing import Optional

FW_VM_IF = "fv0"    # routing namespace, towards the VM
FW_PEER_IF = "fp0"  # routing namespace, towards the peer

PROTO_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


@dataclass(frozen=True)
class Rule:
    id: int
    action: str                    # allow | drop | reject
    direction: str                 # out (VM egress) | in (VM ingress)
    proto: str                     # tcp | udp | icmp | icmpv6
    dport: Optional[int] = None
    icmp_type: Optional[int] = None
    dst: Optional[str] = None      # one prefix


RULES = [
    Rule(1, "allow", "out", "tcp", dport=80),                     # VM browses the web (v4 and v6)
    Rule(2, "allow", "in", "tcp", dport=22),                      # peer reaches the VM's ssh
    Rule(3, "allow", "out", "udp", dport=53),                     # DNS
    Rule(4, "allow", "out", "icmp", icmp_type=8),                 # VM pings
    Rule(5, "allow", "out", "icmpv6", icmp_type=128),
    Rule(6, "drop", "out", "tcp", dport=23),                      # explicit drop: telnet
    Rule(7, "allow", "out", "tcp", dport=443, dst="fd00:2::/64"),  # https, IPv6 peers only
    Rule(8, "allow", "out", "udp", dport=5000),                   # fragmented datagrams
    Rule(9, "reject", "out", "tcp", dport=25),                    # SMTP refused with an RST
    Rule(10, "reject", "out", "udp", dport=69),                   # TFTP refused with ICMP
]
DEFAULT_ACTION = "drop"


def dfw_policy_text(tcp_loose: bool = False) -> str:
    lines = [f"option tcp_loose {'on' if tcp_loose else 'off'}", f"default {DEFAULT_ACTION}"]
    for r in RULES:
        words = ["rule", str(r.id), r.action, "dir", r.direction, "proto", r.proto]
        if r.dst:
            words += ["dst", r.dst]
        if r.dport is not None:
            words += ["dport", str(r.dport)]
        if r.icmp_type is not None:
            words += ["icmp-type", str(r.icmp_type)]
        lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


def _nft_rule(r: Rule) -> str:
    words = ["iifname", f'"{FW_VM_IF if r.direction == "out" else FW_PEER_IF}"']
    if r.dst:
        words += ["ip6" if ":" in r.dst else "ip", "daddr", r.dst]
    words += ["meta", "l4proto", r.proto]
    if r.dport is not None:
        words += ["th", "dport", str(r.dport)]
    if r.icmp_type is not None:
        words += [r.proto, "type", str(r.icmp_type)]
    # dfw answers a rejected TCP segment with an RST and everything else with "administratively
    # prohibited" (ICMP 3/13, ICMPv6 1/1).
    verdict = {"allow": "accept", "drop": "drop",
               "reject": "reject with tcp reset" if r.proto == "tcp"
               else "reject with icmpx admin-prohibited"}[r.action]
    words += ["counter", verdict]
    return " ".join(words)


def nft_ruleset(table: str) -> str:
    """Stateful forward chain with the same semantics as a dfw port: established/related pass
    without classification, invalid is dropped, new flows are classified first-match, default
    drop."""
    rules = "\n".join(f"    {_nft_rule(r)}" for r in RULES)
    return f"""table inet {table} {{
  chain forward {{
    type filter hook forward priority 0; policy {DEFAULT_ACTION};
    ct state established,related counter accept
    ct state invalid counter drop
{rules}
  }}
}}
"""
