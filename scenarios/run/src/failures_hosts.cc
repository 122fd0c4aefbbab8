// Host failures: crash (with optional HA restart), recovery, reboot.

#include <optional>

#include "failures.h"
#include "scenarios/units_parse.h"

namespace scenarios {
namespace {

// Shorter than a real server's reboot (minutes): simulated runs last seconds.
constexpr sim::Time kDefaultRebootDowntime = sim::Seconds(1);

// An optional duration argument ("restart_after", "downtime"); absent leaves `out` unset.
bool duration_arg(const TimelineEvent& event, const std::string& name, std::optional<sim::Time>& out,
                  std::string& error) {
  const auto it = event.args.find(name);
  if (it == event.args.end()) return true;
  const Parsed<sim::Time> parsed = parse_duration(it->second);
  if (!parsed) {
    error = name + ": " + parsed.error;
    return false;
  }
  out = *parsed.value;
  return true;
}

}  // namespace

uint32_t Failures::find_host(const std::string& name, std::string& error) const {
  const auto& hosts = context_.world.hosts;
  for (uint32_t h = 0; h < hosts.size(); ++h)
    if (hosts[h]->name() == name) return h;
  std::string known;
  for (const auto& host : hosts) known += (known.empty() ? "" : ", ") + host->name();
  error = "unknown host '" + name + "' (hosts: " + known + ")";
  return UINT32_MAX;
}

uint32_t Failures::host_arg(const TimelineEvent& event, const std::string*& name, std::string& error) const {
  const auto arg = event.args.find("host");
  if (arg == event.args.end()) {
    error = "missing argument 'host'";
    return UINT32_MAX;
  }
  name = &arg->second;
  return find_host(arg->second, error);
}

bool Failures::fail_host(const TimelineEvent& event, std::string& error) {
  const std::string* name = nullptr;
  const uint32_t host = host_arg(event, name, error);
  if (host == UINT32_MAX) return false;
  std::optional<sim::Time> restart_after;
  if (!duration_arg(event, "restart_after", restart_after, error)) return false;
  if (context_.world.hosts[host]->down()) {
    error = "host '" + *name + "' is already down";
    return false;
  }
  const std::size_t record = crash_host(host, "host_crash", "timeline");
  if (restart_after) {
    context_.world.kernel.schedule(*restart_after, sim::kWorld, [this, record] { ha_restart(record); });
  }
  return true;
}

bool Failures::recover_host(const TimelineEvent& event, std::string& error) {
  const std::string* name = nullptr;
  const uint32_t host = host_arg(event, name, error);
  if (host == UINT32_MAX) return false;
  if (find_open("host_crash", *name) == nullptr) {
    error = "host '" + *name + "' has not crashed (recover_host follows a fail_host)";
    return false;
  }
  bring_host_up(host);
  return true;
}

bool Failures::reboot_host(const TimelineEvent& event, std::string& error) {
  const std::string* name = nullptr;
  const uint32_t host = host_arg(event, name, error);
  if (host == UINT32_MAX) return false;
  std::optional<sim::Time> downtime;
  if (!duration_arg(event, "downtime", downtime, error)) return false;
  // Without `downtime` a reboot takes kDefaultRebootDowntime (docs/failures.md).
  if (!downtime) downtime = kDefaultRebootDowntime;
  if (context_.world.hosts[host]->down()) {
    error = "host '" + *name + "' is already down";
    return false;
  }
  const std::size_t record = crash_host(host, "host_reboot", "timeline");
  context_.world.kernel.schedule(*downtime, sim::kWorld, [this, record] {
    FailureRecord& r = records_[record];
    bring_host_up(r.host);
    // Its VMs boot again on it, with fresh ports (what a reboot does to the firewall's state).
    for (uint32_t vm : r.dead_vms) {
      if (!start_vm(vm, r.host)) continue;
      ++r.restarted_vms;
      r.connections_carried += context_.world.hosts[r.host]->datapath().connection_count(vm);
    }
    r.restart_ns = now_ns();
    annotate_recovery(r, "reboot_restart");
  });
  return true;
}

std::size_t Failures::crash_host(uint32_t host, const std::string& kind, const std::string& cause) {
  World& world = context_.world;
  models::Host& h = *world.hosts[host];
  FailureRecord record;
  record.kind = kind;
  record.target = h.name();
  record.cause = cause;
  record.host = host;
  record.dead_vms = h.local_vms();
  record.vms_affected = record.dead_vms.size();
  for (uint32_t vm : record.dead_vms) record.connections_lost += h.datapath().connection_count(vm);
  // Packets lost because the host is gone: those reaching it or caught inside it. (Packets for
  // its VMs keep coming here until HA restarts them elsewhere: the fabric's directory still
  // names this host, as switches' MAC tables would until a gratuitous ARP.)
  record.drop_counter = [&h] { return h.drops(models::HostDropReason::kHostDown); };
  h.set_down(true);
  for (uint32_t vm : record.dead_vms) {
    world.vms[vm].running = false;
    h.remove_vm(vm);  // the port goes, with its connections: nothing of its state survives
    // The guest dies too: its sockets end now (vm_crashed), nothing of the old stack fires later.
    if (vm < world.stacks.size() && world.stacks[vm])
      record.flows_aborted += world.stacks[vm]->abort_all(models::traffic::FlowReason::kVmCrashed);
    world.control_plane->workload_lost(vm);
  }
  const std::size_t index = open(std::move(record));
  for (const auto& listener : world.host_crash_listeners)
    if (listener) listener(host);  // e.g. migrations from or to it abort now
  return index;
}

void Failures::bring_host_up(uint32_t host) {
  models::Host& h = *context_.world.hosts[host];
  h.set_down(false);
  if (!close("host_crash", h.name())) close("host_reboot", h.name());
}

bool Failures::start_vm(uint32_t vm, uint32_t host) {
  World& world = context_.world;
  models::Host& h = *world.hosts[host];
  if (h.down() || h.has_vm(vm)) return false;
  const dfw::Status status = h.add_vm(vm, world.control_plane->rules_on_host(vm, host));
  if (!status) return false;
  world.vms[vm].running = true;
  // A booted guest: a fresh TCP/UDP stack (abort_all emptied it when the VM died).
  if (vm < world.stacks.size() && world.stacks[vm]) world.stacks[vm]->restart();
  world.control_plane->workload_moved(vm, host, nullptr);
  return true;
}

// Placement: each VM (in index order) goes to the host that is up, is not the crashed one, and
// has the fewest VMs at that moment (ties: the lower host index) — deterministic, and it spreads
// a crashed host's VMs over the survivors as HA admission control does.
void Failures::ha_restart(std::size_t record) {
  World& world = context_.world;
  FailureRecord& r = records_[record];
  for (uint32_t vm : r.dead_vms) {
    if (world.vms[vm].running) continue;  // already back (another action started it)
    uint32_t best = UINT32_MAX;
    std::size_t best_load = SIZE_MAX;
    for (uint32_t h = 0; h < world.hosts.size(); ++h) {
      if (h == r.host || world.hosts[h]->down()) continue;
      const std::size_t load = world.hosts[h]->local_vms().size();
      if (load < best_load) {
        best = h;
        best_load = load;
      }
    }
    if (best == UINT32_MAX) break;  // nowhere to go: they stay dead
    if (!start_vm(vm, best)) continue;
    ++r.restarted_vms;
    r.connections_carried += world.hosts[best]->datapath().connection_count(vm);
  }
  r.restart_ns = now_ns();
  annotate_recovery(r, "ha_restart");
}

}  // namespace scenarios
