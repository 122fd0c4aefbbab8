"""Three network namespaces: vm -- fw -- peer. The fw namespace routes between the two veth links
and runs the nftables policy with conntrack; the end namespaces have no addresses and drop
everything they receive, so only the frames this test injects ever reach the firewall.

Frames are injected and observed with AF_PACKET sockets opened inside the end namespaces (setns on
this thread only while the socket is created; a socket stays in the namespace it was made in).
The kernel's verdict for a frame is whether it came out on the far side.
"""

import ctypes
import os
import re
import select
import signal
import socket
import subprocess
import time

from policy import FW_PEER_IF, FW_VM_IF, nft_ruleset

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

VM_IF, PEER_IF = "vm0", "pr0"
MAC = {
    VM_IF: "02:00:00:00:01:02", FW_VM_IF: "02:00:00:00:01:01",
    FW_PEER_IF: "02:00:00:00:02:01", PEER_IF: "02:00:00:00:02:02",
}
VM4, FW_VM4, FW_PEER4, PEER4 = "10.0.1.2", "10.0.1.1", "10.0.2.1", "10.0.2.2"
VM6, FW_VM6, FW_PEER6, PEER6 = "fd00:1::2", "fd00:1::1", "fd00:2::1", "fd00:2::2"

# Match dfw's semantics (strict windows; tcp_loose as the dfw run's policy says, off unless set);
# checksum verification stays on (the default) and is listed as an intended difference.
FW_SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
    "net.ipv6.conf.all.forwarding": "1",
    "net.ipv6.conf.all.accept_dad": "0",
    "net.ipv6.conf.default.accept_dad": "0",
    "net.netfilter.nf_conntrack_tcp_loose": "0",
    "net.netfilter.nf_conntrack_tcp_be_liberal": "0",
    "net.netfilter.nf_conntrack_checksum": "1",
}

_libc = ctypes.CDLL(None, use_errno=True)


class LabError(RuntimeError):
    pass


def _terminate(signum, frame):
    # Unwinds through Lab.__exit__; pytest ends the whole session on KeyboardInterrupt.
    raise KeyboardInterrupt(f"terminated by signal {signum}")


def run(*argv, stdin=None):
    try:
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=20)
    except FileNotFoundError:
        raise LabError(f"{argv[0]} is not installed (scripts/install-deps installs it)") from None
    if proc.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        raise LabError(f"setns: {os.strerror(ctypes.get_errno())}")


NS_PREFIX = "dfwdiff"


def remove_stale_namespaces():
    """Deletes namespaces left by an earlier run that was killed (its PID no longer exists);
    namespaces of runs still alive are left alone."""
    for line in run("ip", "netns", "list").splitlines():
        m = re.fullmatch(rf"({NS_PREFIX}_(?:vm|fw|peer)_(\d+))(?: \(id: \d+\))?", line.strip())
        if m and not os.path.exists(f"/proc/{m.group(2)}"):
            subprocess.run(["ip", "netns", "delete", m.group(1)], capture_output=True, timeout=20)


class Lab:
    """Creates the namespaces on enter and always deletes them on exit, also when the run is
    terminated (ctest's timeout sends SIGTERM)."""

    def __init__(self, pid, tcp_loose=False):
        self.ns = {role: f"{NS_PREFIX}_{role}_{pid}" for role in ("vm", "fw", "peer")}
        self.sysctls = dict(FW_SYSCTLS)
        self.sysctls["net.netfilter.nf_conntrack_tcp_loose"] = "1" if tcp_loose else "0"
        self.table = "dfwdiff"
        self.sockets = {}
        self._created = []

    # -- lifetime ---------------------------------------------------------------------------
    def __enter__(self):
        remove_stale_namespaces()
        self._old_sigterm = signal.signal(signal.SIGTERM, _terminate)
        try:
            self._build()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut cleanup short
        try:
            self.close()
        finally:
            signal.signal(signal.SIGTERM, self._old_sigterm)

    def close(self):
        for s in self.sockets.values():
            s.close()
        self.sockets.clear()
        for name in reversed(self._created):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=20)
        self._created.clear()

    def ns_exec(self, role, *argv, stdin=None):
        return run("ip", "netns", "exec", self.ns[role], *argv, stdin=stdin)

    # -- construction -----------------------------------------------------------------------
    def _build(self):
        for name in self.ns.values():
            run("ip", "netns", "add", name)
            self._created.append(name)
        vm, fw, peer = self.ns["vm"], self.ns["fw"], self.ns["peer"]
        for role in ("vm", "peer"):
            # No IPv6 and no addresses at the ends: their stacks never answer anything.
            self.ns_exec(role, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                         "net.ipv6.conf.default.disable_ipv6=1")
        self.ns_exec("fw", "sysctl", "-qw", *[f"{k}={v}" for k, v in self.sysctls.items()])
        run("ip", "link", "add", VM_IF, "netns", vm, "address", MAC[VM_IF], "type", "veth",
            "peer", "name", FW_VM_IF, "netns", fw, "address", MAC[FW_VM_IF])
        run("ip", "link", "add", PEER_IF, "netns", peer, "address", MAC[PEER_IF], "type", "veth",
            "peer", "name", FW_PEER_IF, "netns", fw, "address", MAC[FW_PEER_IF])
        self.ns_exec("vm", "ip", "link", "set", VM_IF, "up")
        self.ns_exec("peer", "ip", "link", "set", PEER_IF, "up")
        sink = ("table inet sink {\n  chain pre {\n"
                "    type filter hook prerouting priority -400; policy drop;\n  }\n}\n")
        for role in ("vm", "peer"):
            self.ns_exec(role, "nft", "-f", "-", stdin=sink)
        batch = "\n".join([
            f"address add {FW_VM4}/24 dev {FW_VM_IF}",
            f"address add {FW_PEER4}/24 dev {FW_PEER_IF}",
            f"address add {FW_VM6}/64 dev {FW_VM_IF} nodad",
            f"address add {FW_PEER6}/64 dev {FW_PEER_IF} nodad",
            f"link set {FW_VM_IF} up",
            f"link set {FW_PEER_IF} up",
            # Static neighbours: the firewall never resolves anything during the run.
            f"neigh replace {VM4} lladdr {MAC[VM_IF]} dev {FW_VM_IF} nud permanent",
            f"neigh replace {PEER4} lladdr {MAC[PEER_IF]} dev {FW_PEER_IF} nud permanent",
            f"neigh replace {VM6} lladdr {MAC[VM_IF]} dev {FW_VM_IF} nud permanent",
            f"neigh replace {PEER6} lladdr {MAC[PEER_IF]} dev {FW_PEER_IF} nud permanent",
        ]) + "\n"
        self.ns_exec("fw", "ip", "-batch", "-", stdin=batch)
        self.ns_exec("fw", "nft", "-f", "-", stdin=nft_ruleset(self.table))
        for sysctl, want in self.sysctls.items():
            got = self.ns_exec("fw", "sysctl", "-n", sysctl).strip()
            if got != want:
                raise LabError(f"fw namespace: {sysctl} is {got}, need {want}")
        self.sockets = {VM_IF: self._packet_socket("vm", VM_IF),
                        PEER_IF: self._packet_socket("peer", PEER_IF)}

    def _packet_socket(self, role, ifname):
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open(f"/var/run/netns/{self.ns[role]}", os.O_RDONLY)
        try:
            _setns(target)
            try:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
                s.bind((ifname, 0))
                s.setblocking(False)
            finally:
                _setns(home)
        finally:
            os.close(home)
            os.close(target)
        return s

    # -- traffic ----------------------------------------------------------------------------
    def send(self, ifname, frame):
        self.sockets[ifname].send(frame)

    def receive(self, deadline, on_frame):
        """Hands every frame arriving at either end to on_frame(ifname, bytes) until `deadline`
        (time.monotonic()) or until on_frame returns True."""
        by_fd = {s.fileno(): (name, s) for name, s in self.sockets.items()}
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select(list(by_fd), [], [], left)
            for fd in ready:
                name, s = by_fd[fd]
                while True:
                    try:
                        data, addr = s.recvfrom(65535)
                    except BlockingIOError:
                        break
                    if addr[2] == PACKET_OUTGOING:
                        continue
                    if on_frame(name, data):
                        return

    def conntrack_count(self):
        return int(self.ns_exec("fw", "sysctl", "-n", "net.netfilter.nf_conntrack_count").strip())
