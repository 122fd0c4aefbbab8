#pragma once
// A validated scenario: everything a run needs, with units already applied.
//
// The loader (loader.h) turns YAML into this struct and reports every problem with
// file:line:column and the field path; code past the loader may assume every field is valid
// (names resolve, rates are positive, addresses are unique). The schema with examples is in
// docs/scenario.md; field names here follow the YAML keys (see that document for the few
// places where the YAML key drops a unit suffix, e.g. `clock` -> clock_hz).
//
// File paths of inputs (flow-size CDFs, pcaps, flow logs) are resolved by the loader against
// the scenario file's directory, so models open them as they are. Output paths are left as
// written (relative to the working directory of `segsim run`).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/time.h"
#include "sim/units.h"

namespace scenarios {

struct LinkSpec {
  sim::DataRate rate = sim::DataRate::gbps(10);
  sim::Time delay = sim::Micros(1);
  sim::Bytes queue_size{512 * 1024};       // drop-tail limit per output port
  std::optional<sim::Bytes> ecn_threshold;  // mark CE above this occupancy
};

struct FabricSpec {
  std::string kind = "leaf-spine";  // "leaf-spine" | "star" | "graph"
  uint32_t leaves = 2;
  uint32_t spines = 2;
  uint32_t hosts_per_leaf = 2;
  uint32_t uplinks_per_host = 1;  // 1 or 2 (active/active)
  LinkSpec host_link;
  LinkSpec fabric_link{sim::DataRate::gbps(40), sim::Micros(1), sim::Bytes{1024 * 1024}, {}};
  // kind == "graph": explicit switches and links between named nodes (hosts or switches).
  std::vector<std::string> switches;
  struct GraphLink {
    std::string a, b;
    LinkSpec link;
  };
  std::vector<GraphLink> links;
  // routing.reconvergence_delay: how long after a link or switch changes state the switches'
  // routes follow (failure detection + BGP); 0 = at once (docs/failures.md).
  sim::Time reconvergence_delay = sim::Time::zero();
};

struct HostSpec {
  std::string name;
  uint32_t cores = 4;
  uint64_t clock_hz = 2'600'000'000;
  uint32_t rx_queue_count = 4;       // NIC receive queues, spread over cores by RSS
  uint32_t core_queue_packets = 1024;  // per-core backlog before drops
  uint32_t connection_limit = 2'000'000;
  // VMs the VM groups without `count` place on this host, split round-robin over those groups
  // (0: none). The knob a capacity sweep turns: `--param topology.hosts.vms_per_host=10,20,40`.
  uint32_t vms_per_host = 0;
};

struct VmSpec {
  std::string name;
  std::string group;  // the `group` a VM was expanded from; empty for VMs listed one by one
  std::string host;
  std::string mac;   // "02:00:00:00:00:01"; generated when empty
  std::string ipv4;  // generated from topology.vm_subnet when empty
  std::string ipv6;  // optional
  std::map<std::string, std::string> labels;
  sim::DataRate vnic_rate = sim::DataRate::gbps(10);
  sim::Bytes memory_size{4ULL << 30};
  // Location in the file, for messages of later stages (e.g. "web-3 has no host").
  int line = 0;
};

// Label-based policy (the control plane compiles it into per-port dfw rules).
struct ScopeSpec {
  std::map<std::string, std::string> labels;  // every label must match; empty: any workload
  std::vector<std::string> ip_lists;          // names of policy.ip_lists
  bool any = false;                           // "any" (including addresses outside the estate)
};
struct ServiceSpec {
  uint8_t protocol = 0;  // 0 any, 6 tcp, 17 udp, 1 icmp, 58 icmpv6
  uint16_t port_first = 0;
  uint16_t port_last = 65535;
};
struct PolicyRuleSpec {
  std::string name;
  std::string category = "application";  // emergency | infrastructure | environment | application | default
  ScopeSpec from;
  ScopeSpec to;
  std::vector<ServiceSpec> services;  // empty: any
  std::string action = "allow";       // allow | drop | reject
  bool log = false;
  int line = 0;
};
struct PolicySpec {
  std::string default_action = "drop";
  std::map<std::string, std::vector<std::string>> ip_lists;  // name -> CIDRs
  std::map<std::string, ServiceSpec> services;               // named services
  // Sorted by category priority (emergency first, default last), file order within a category.
  std::vector<PolicyRuleSpec> rules;
};

// One point of a flow-size distribution: P(flow size <= size_bytes) = cumulative, with
// cumulative in [0, 1]. Points are strictly increasing in size and non-decreasing in cumulative,
// the last cumulative is exactly 1.
struct CdfPoint {
  uint64_t size_bytes = 0;
  double cumulative = 0;
};

struct TrafficSpec {
  std::string kind;  // "synthetic" | "pcap" | "flowlog"
  // synthetic
  std::string pattern = "all-to-all";            // all-to-all | tiers | matrix
  std::vector<std::string> tiers;                // label values of `tier_label`, in call order
  std::string tier_label = "role";
  std::vector<std::vector<double>> matrix;       // pattern == matrix: weights between VMs
  std::string flow_size_cdf;                     // file path (resolved, see top of file)
  std::vector<CdfPoint> flow_size_cdf_points;    // the file's table, read and checked by the loader
  double load = 0.3;                             // fraction of host link capacity
  std::optional<sim::DataRate> load_per_vm;      // instead of `load`: payload rate each source VM offers
  std::string protocol = "tcp";                  // tcp | udp
  uint16_t destination_port = 8080;
  sim::Time start = sim::Time::zero();
  std::optional<sim::Time> stop;
  // replay
  std::string file;                              // pcap or flow log (resolved, see top of file)
  std::string mapping = "hash";                  // hash | round-robin | table
  std::map<std::string, std::string> address_table;  // trace address -> VM name
  double speed = 1.0;
  uint32_t loops = 1;
  bool coalesce = false;
  bool skip_bad_records = false;
  int line = 0;
};

// The actions and their arguments are listed in docs/scenario.md ("timeline"). The loader checks
// that the action is known, required arguments are present, names resolve (VMs, hosts, links
// named as in fabric_layout.h, switches, rules) and values parse (durations with
// scenarios::parse_duration, probabilities as plain numbers in [0, 1]). Values are kept as
// written, except that link names are put in their canonical order, list arguments are joined
// with "," and map arguments become "k=v,k=v". The loader sorts events by time (stable).
// The VMs' TCP stacks (models/traffic). Defaults follow Linux; datacenter studies usually shorten
// the timers (e.g. initial_rto 10ms, min_rto 5ms) so that a denied connection fails within the run.
struct TransportSpec {
  uint32_t mss = 1460;                       // payload bytes per segment
  sim::Time initial_rto = sim::Seconds(1);   // RFC 6298; also the first SYN timeout
  sim::Time min_rto = sim::Millis(200);
  sim::Time max_rto = sim::Seconds(120);
  uint32_t syn_retries = 6;                  // then the connection fails (failed_timeout)
  uint32_t data_retries = 15;
  sim::Time time_wait = sim::Seconds(1);
  bool delayed_ack = false;
  sim::Bytes small_queue_limit{128 * 1024};  // TCP small queues: bytes queued in the vNIC; 0: off
};

// A modelled control plane (section `control_plane`, docs/scenario.md): the policy controller
// service and one agent per host, talking over a simulated management network. Absent, the run
// applies the controller's rules to the hosts at once (DirectControlPlane).
struct ControlPlaneSpec {
  bool enabled = false;                            // the section is present
  sim::Time latency = sim::Micros(100);            // each host's management link, one way
  sim::DataRate bandwidth = sim::DataRate::gbps(1);
  double loss = 0;                                 // per TCP segment and attempt
  sim::Time rto = sim::Millis(200);                // first retransmission timeout
  sim::Time controller_latency = sim::Time::zero();  // the controller's own link, one way
  sim::DataRate controller_bandwidth = sim::DataRate::gbps(10);
  sim::Time heartbeat_interval = sim::Seconds(1);  // agents and controller, both ways
  uint32_t missed_heartbeats = 3;                  // then the peer is declared lost
  sim::Time connect_timeout = sim::Seconds(3);     // SYN retransmissions give up
  sim::Time transport_timeout = sim::Seconds(30);  // TCP_USER_TIMEOUT for unacknowledged data
  sim::Time reconnect_interval = sim::Seconds(1);  // agents' first reconnect backoff
};

struct TimelineEvent {
  sim::Time at;
  std::string action;                        // migrate | fail_host | recover_host | link_down | link_up | ...
  std::map<std::string, std::string> args;   // action-specific, validated by the loader
  int line = 0;
};

// Failures drawn at random while the run goes on (section `failures`, docs/failures.md). Each
// target alternates up and down: up for an exponential time with mean `mtbf`, then down (host
// crash, link down, switch failure) for an exponential time with mean `mttr`, each target with
// its own random stream (Kernel::rng_for("failures/<component>/<target>")).
struct RandomFailureSpec {
  std::string component;              // host | link | switch
  sim::Time mtbf;                     // mean time between failures, per target
  sim::Time mttr;                     // mean time to repair
  std::vector<std::string> targets;   // names (links canonical); empty: every one of that component
  std::optional<sim::Time> restart_after;  // hosts: HA restarts the VMs after this delay
  int line = 0;
};

struct FailuresSpec {
  std::vector<RandomFailureSpec> random;
};

struct OutputSpec {
  std::string path;                   // result file; empty: <scenario name>.h5
  sim::Time interval = sim::Millis(10);  // time-series sampling interval
  std::vector<std::string> pcap_ports;   // VM names or link names to capture (YAML key `pcap`)
  std::string pcap_directory;
  // Bytes kept per captured frame (YAML `pcap_snap_length`, 14..262144): 128 holds every header
  // the models build; more adds zero payload bytes up to the frame length.
  uint32_t pcap_snap_length = 128;
};

struct Scenario {
  std::string name;          // defaults to the file name without extension
  std::string description;   // free text, one line, for listings and reports
  std::string source_path;   // the file it was loaded from
  std::string source_text;   // the file's text, as given
  std::string effective_yaml;  // after --set overrides, re-emitted
  sim::Time duration = sim::Seconds(1);
  uint64_t seed = 1;
  std::string vm_subnet = "10.0.0.0/16";
  sim::Bytes segment_size{64 * 1024};  // offload super-packet size hosts see
  FabricSpec fabric;
  std::vector<HostSpec> hosts;
  std::vector<VmSpec> vms;
  PolicySpec policy;
  TransportSpec transport;
  ControlPlaneSpec control_plane;
  std::vector<TrafficSpec> traffic;
  std::vector<TimelineEvent> timeline;
  FailuresSpec failures;
  OutputSpec outputs;
};

}  // namespace scenarios
