#pragma once
// A hypervisor host: cores, a NIC with RSS receive queues, a vSwitch, a vNIC per local VM, and
// one real dfw datapath with one port per VM (dfw::PortId = VmIndex).
//
// Packet paths (every step is an event of the host's entity; times are exact):
//  - VM transmits (PacketTransmitter of its vNIC): the vNIC serializes at the VM's vnic_rate
//    behind the VM's earlier packets (drop vnic_queue_full beyond vnic_queue_size bytes). When
//    the packet leaves the vNIC it reaches a core: the egress dfw check runs at the source host.
//    If allowed and the destination MAC is a local vNIC, the ingress check runs too, on the same
//    core, and the packet is delivered locally without touching the fabric; otherwise it goes to
//    the fabric through an uplink.
//  - A packet from the fabric is steered by RSS (flow hash -> receive queue -> core), checked by
//    the ingress dfw at the destination host and delivered to Vm::receiver, which records the
//    one-way latency (now - Packet::sent_at) in the host's histogram.
//  - Each core is a FIFO server. Work arriving at a core is charged cycles by the cost model
//    (base + coefficients x the dfw work counters of that very packet), taking cycles / clock_hz
//    of core time; a busy core queues (latency grows) and a core with core_queue_packets packets
//    in its backlog drops with reason core_backlog_full. The firewall decides when the packet
//    enters the core's queue; the packet moves on when the core has finished it.
//    Egress processing uses the same RSS choice as receive, so both directions of a flow
//    share a core (as transmit-packet steering arranges on real hosts).
//  - Frames dfw originates (TCP RST, ICMP unreachable for reject rules) arrive through the
//    platform::FrameSink the host implements; they leave on the core of the packet that caused
//    them, toward the VM or toward the peer (local or through the fabric), without a dfw check.
//  - Transmit completion: when a packet whose sender asked for it (Packet::sender_socket) leaves
//    the vNIC queue, or is dropped before entering it, the VM's Vm::transmit_listener is told
//    (TCP small queues, docs/traffic.md).
//  - Capture: a VM with a tap (Vm::capture) has every packet its vNIC accepts and every packet
//    delivered to it recorded (capture_tap.h).
//  - Connection expiry: the host calls datapath.expire(now) from a SimTimer, at the deadline it
//    returns but never sooner than expiry_interval after the previous sweep (100 ms by default),
//    which bounds the expiry events to 10 per simulated second per host. Connections therefore
//    live up to expiry_interval longer than their timeout; the sweep's cost (per connection
//    destroyed) is charged to core 0.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "dfw/datapath.h"
#include "models/cost_model.h"
#include "models/fabric.h"
#include "models/fifo_server.h"
#include "models/host_stats.h"
#include "models/latency_histogram.h"
#include "models/mac_table.h"
#include "models/packet.h"
#include "models/sim_platform.h"
#include "models/vm.h"
#include "sim/kernel.h"

namespace models {

struct HostParams {
  uint32_t cores = 4;                        // count; cores doing vSwitch and dfw work
  uint64_t clock_hz = 2'600'000'000;         // Hz; converts charged cycles to core time
  uint32_t rx_queue_count = 4;               // count; NIC receive queues, queue q on core q % cores
  uint32_t core_queue_packets = 1024;        // packets; per-core backlog before drops
  sim::Bytes vnic_queue_size{1024 * 1024};   // bytes; per-VM vNIC transmit queue
  sim::Time expiry_interval = sim::Millis(100);  // ns; minimum spacing of dfw expiry sweeps
  dfw::DatapathConfig datapath;              // dfw: connection limit, timeouts, ARP policy
};

class Host final : public HostPort, private platform::FrameSink {
 public:
  // Registers the entity "host/<name>" and attaches to the fabric as host `index`. Everything
  // passed by reference outlives the host.
  Host(std::string name, uint32_t index, const HostParams& params, sim::Kernel& kernel,
       PacketPool& pool, VmTable& vms, Fabric& fabric, const CostModel& cost);
  ~Host() override;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  const std::string& name() const { return name_; }
  uint32_t index() const { return index_; }
  sim::EntityId entity() const { return entity_; }
  const HostParams& params() const { return params_; }

  // Places VM `vm` (already in the VmTable) on this host: a dfw port enforcing `rules`
  // (nullptr: drop everything), a vNIC (Vm::transmitter), the vSwitch's MAC entry, and the
  // fabric's directory entry. Sets Vm::host. Fails if the port exists.
  dfw::Status add_vm(VmIndex vm, dfw::RuleTablePtr rules);
  // Like add_vm, but the port (connections, counters) comes from a blob another host's
  // datapath exported (live migration); nothing changes if the blob is rejected.
  dfw::Status import_vm(VmIndex vm, std::span<const uint8_t> blob, dfw::RuleTablePtr rules);
  // Removes the VM's port (flushing its connections), vNIC and MAC entry. Packets already on
  // their way to it are dropped on arrival.
  dfw::Status remove_vm(VmIndex vm);
  dfw::Status install_rules(VmIndex vm, dfw::RuleTablePtr rules);
  bool has_vm(VmIndex vm) const { return vnics_.count(vm) != 0; }
  // The VMs placed on this host, in index order.
  std::vector<VmIndex> local_vms() const;

  // Crash / reboot (failure injection). A down host drops, with reason host_down, every packet
  // that reaches it from the fabric and every packet of its own still in flight inside it (in a
  // vNIC queue or on a core). What dies with it (VMs, ports) the caller removes; coming back up
  // changes nothing else. Costs one flag test per packet stage while up.
  void set_down(bool down) { down_ = down; }
  bool down() const { return down_; }
  // Cumulative drops for `reason` (what sample() reports, without resetting peaks).
  uint64_t drops(HostDropReason reason) const { return counters_.host_drops[static_cast<std::size_t>(reason)]; }

  // The host's own network stack (a vmkernel interface: live-migration streams). Packets from
  // the fabric whose destination_vm is `address` (a fabric directory entry past the VMs, placed
  // with Fabric::set_vm_host) go to `receiver`, bypassing the vSwitch and dfw. Not owned.
  void set_host_stack(VmIndex address, PacketReceiver* receiver) {
    host_stack_address_ = address;
    host_stack_ = receiver;
  }
  // Told of every packet this host drops (dfw verdicts and host reasons) just before it is
  // released, for features that attribute drops to flows or VMs (migrations). Not owned;
  // nullptr (the default) costs one compare per drop.
  class DropObserver {
   public:
    virtual ~DropObserver() = default;
    virtual void dfw_dropped(const Packet& packet, VmIndex port, dfw::DropReason reason) = 0;
    virtual void host_dropped(const Packet& packet, HostDropReason reason) = 0;
  };
  void set_drop_observer(DropObserver* observer) { drop_observer_ = observer; }
  DropObserver* drop_observer() const { return drop_observer_; }
  // Told of every packet dfw allowed on a port, right after the verdict (invariant 1,
  // docs/failures.md "Invariants"). `host.datapath().rules(port)` is the table that decided: tables
  // are swapped between packets, never during one. Not owned; nullptr (the default) costs one
  // compare per allowed packet.
  class VerdictObserver {
   public:
    virtual ~VerdictObserver() = default;
    virtual void dfw_allowed(const Host& host, const Packet& packet, VmIndex port, dfw::Direction direction,
                             const dfw::Result& result) = 0;
  };
  void set_verdict_observer(VerdictObserver* observer) { verdict_observer_ = observer; }
  VerdictObserver* verdict_observer() const { return verdict_observer_; }

  // The real firewall, for rule hits, per-port counters, export/import.
  dfw::Datapath& datapath() { return *datapath_; }
  const dfw::Datapath& datapath() const { return *datapath_; }
  // What the code under test sees of the world (clock, timers, log, metrics, frames).
  platform::Env& env() { return env_; }
  SimLog& log() { return log_; }
  SimMetrics& metrics() { return metrics_; }

  // HostPort: a packet from uplink `uplink`.
  void receive_from_fabric(Packet* packet, uint32_t uplink) override;

  // Counters at `now`; resets the per-interval peaks. The runner calls it every interval.
  HostSample sample(sim::Time now);
  // One-way latency of every packet delivered to a VM on this host (ns).
  const LatencyHistogram& latency() const { return latency_; }
  LatencyHistogram& latency() { return latency_; }

  // The core RSS picks for a flow hash (receive queue = hash mix, core = queue % cores).
  uint32_t core_for(uint64_t flow_hash) const;

 private:
  class VNic;
  struct Core {
    FifoServer server;
    uint64_t busy_cycles = 0;
    uint64_t packets = 0;
  };
  struct GeneratedFrame {
    Packet* packet;
    bool toward_vm;
  };
  enum class Next : uint8_t { kFabric, kDeliver };

  dfw::Status check_new_vm(VmIndex vm) const;
  void attach_vnic(VmIndex vm);
  void vnic_transmit(VNic& vnic, Packet* packet);
  // Tells VM `vm`'s transmit listener that `packet` left its vNIC queue (or never entered it).
  void transmit_completed(VmIndex vm, const Packet& packet);
  void egress(Packet* packet);
  // Runs dfw for `packet` on `port`/`direction`; adds the cycles to `cycles`.
  bool check(Packet* packet, VmIndex port, dfw::Direction direction, uint64_t& cycles);
  // Charges `cycles` to `core` and returns when the core will have finished.
  sim::Time charge(Core& core, uint64_t cycles);
  void schedule_next(Packet* packet, Next next, sim::Time at);
  void schedule_generated_frames(sim::Time at);
  void deliver(Packet* packet);
  void drop(Packet* packet, HostDropReason reason);
  void drop(Packet* packet, dfw::DropReason reason);
  VmIndex local_vm_by_mac(const Packet& packet, int offset) const;
  void note_connection_created();
  void on_expiry_timer();

  // platform::FrameSink
  void transmit(uint32_t port, bool toward_vm, const uint8_t* frame, uint32_t size) override;

  std::string name_;
  uint32_t index_;
  HostParams params_;
  sim::Kernel& kernel_;
  PacketPool& pool_;
  VmTable& vms_;
  Fabric& fabric_;
  const CostModel& cost_;
  sim::EntityId entity_;
  uint64_t rss_key_;

  SimClock clock_;
  SimTimerService timers_;
  SimLog log_;
  SimMetrics metrics_;
  platform::Env env_;

  std::unique_ptr<dfw::Datapath> datapath_;
  std::vector<Core> cores_;
  std::unordered_map<VmIndex, std::unique_ptr<VNic>> vnics_;
  // vnics_ indexed by VmIndex (nullptr: not here), for the per-packet "still local?" test.
  std::vector<VNic*> vnic_by_vm_;
  MacTable mac_table_;  // vSwitch: MAC -> local VM
  platform::TimerPtr expiry_timer_;
  sim::Time last_expiry_ = sim::Time::zero();
  bool down_ = false;

  const Packet* current_packet_ = nullptr;  // the packet dfw is processing (for FrameSink)
  std::vector<GeneratedFrame> generated_;   // frames dfw originated during the current check
  HostSample counters_;
  LatencyHistogram latency_;
  VmIndex host_stack_address_ = kNoVm;
  PacketReceiver* host_stack_ = nullptr;
  DropObserver* drop_observer_ = nullptr;
  VerdictObserver* verdict_observer_ = nullptr;
};

}  // namespace models
