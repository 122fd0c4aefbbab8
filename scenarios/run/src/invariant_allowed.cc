#include "invariant_allowed.h"

#include <unordered_map>
#include <vector>

#include "invariant_rules.h"

namespace scenarios {
namespace {

constexpr const char* kName = "allowed_by_enforced_version";

const char* action_text(dfw::Action a) {
  return a == dfw::Action::kAllow ? "allow" : a == dfw::Action::kDrop ? "drop" : "reject";
}

class AllowedInvariant final : public RunExtension {
 public:
  explicit AllowedInvariant(RunContext& context) : context_(context) {}

  ~AllowedInvariant() override {
    for (std::size_t h = 0; h < observers_.size(); ++h) {
      models::Host& host = *context_.world.hosts[h];
      if (host.verdict_observer() == observers_[h].get()) host.set_verdict_observer(nullptr);
    }
  }

  void start() override {
    // Every run reports the invariant, even one whose ports allowed nothing.
    count_ = &context_.world.invariants[kName];
    for (uint32_t h = 0; h < context_.world.hosts.size(); ++h) {
      observers_.push_back(std::make_unique<Observer>(*this, h));
      context_.world.hosts[h]->set_verdict_observer(observers_.back().get());
    }
  }

  bool finish(analysis::ResultWriter&, RunSummary&, std::string&) override { return true; }

 private:
  class Observer final : public models::Host::VerdictObserver {
   public:
    Observer(AllowedInvariant& check, uint32_t host) : check_(check), host_(host) {}
    void dfw_allowed(const models::Host& host, const models::Packet& packet, models::VmIndex port,
                     dfw::Direction direction, const dfw::Result& result) override {
      // Packets of existing connections: allowed by connection state (see the header).
      if (result.connection_hit) return;
      check_.check(host, host_, packet, port, direction, result);
    }

   private:
    AllowedInvariant& check_;
    uint32_t host_;
  };

  void check(const models::Host& host, uint32_t host_index, const models::Packet& packet, models::VmIndex port,
             dfw::Direction direction, const dfw::Result& result);
  const LinearRuleSet& prepared(const dfw::RuleSetSpec& spec);
  void violation(const models::Host& host, models::VmIndex port, const std::string& what);

  RunContext& context_;
  InvariantCount* count_ = nullptr;
  std::vector<std::unique_ptr<Observer>> observers_;
  // One walkable form per distinct rule set (the specs outlive the run's control plane link).
  std::unordered_map<const dfw::RuleSetSpec*, std::unique_ptr<LinearRuleSet>> prepared_;
  const ControlPlaneLink* link_ = nullptr;  // whose specs prepared_ holds
};

const LinearRuleSet& AllowedInvariant::prepared(const dfw::RuleSetSpec& spec) {
  auto& slot = prepared_[&spec];
  if (!slot) slot = std::make_unique<LinearRuleSet>(spec);
  return *slot;
}

void AllowedInvariant::check(const models::Host& host, uint32_t host_index, const models::Packet& packet,
                             models::VmIndex port, dfw::Direction direction, const dfw::Result& result) {
  const PacketFacts facts = read_packet(packet.header.data(), packet.header_size, direction);
  switch (facts.kind) {
    case PacketFacts::Kind::kClassified:
      break;
    case PacketFacts::Kind::kUnreadable:
      count_->skipped("unreadable_header");
      return;
    case PacketFacts::Kind::kIcmpError:
      // dfw allows these only as related to a tracked connection (connection_hit): one that
      // got here was allowed without one.
      violation(host, port, describe(facts) + ": an ICMP error allowed without the connection it quotes");
      return;
    default:
      return;  // not decided by the rules (ARP, neighbour discovery, later fragments)
  }
  ++count_->checked;
  World& world = context_.world;
  if (port >= world.vms.size() || world.vms[port].host != host_index) {
    violation(host, port, describe(facts) + " allowed on a port of a VM that does not run on this host");
    return;
  }
  const dfw::RuleTable* table = host.datapath().rules(port);
  if (table == nullptr) {
    violation(host, port, describe(facts) + " allowed by a port that enforces no rule table");
    return;
  }
  const uint64_t version = dfw::rule_table_version(*table);
  if (world.control_plane.get() != link_) {  // replaced (simulated control plane): new specs
    link_ = world.control_plane.get();
    prepared_.clear();
  }
  const dfw::RuleSetSpec* spec = link_->computed_spec(port, version);
  if (spec == nullptr) {
    violation(host, port, describe(facts) + " allowed under version " + std::to_string(version) +
                              ", which the controller never computed for this port");
    return;
  }
  const LinearRuleSet::Decision decision = prepared(*spec).evaluate(facts);
  if (decision.action == dfw::Action::kAllow) return;
  const std::string by_dfw = result.rule_id >= 0 ? "dfw rule " + std::to_string(result.rule_id) : "dfw default action";
  const std::string by_spec =
      decision.rule_id >= 0 ? "rule " + std::to_string(decision.rule_id) : std::string("its default action");
  violation(host, port,
            describe(facts) + " allowed (" + (result.connection_created ? "new connection, " : "") + by_dfw +
                ") but version " + std::to_string(version) + " says " + action_text(decision.action) + " (" +
                by_spec + ")");
}

void AllowedInvariant::violation(const models::Host& host, models::VmIndex port, const std::string& what) {
  World& world = context_.world;
  const std::string vm = port < world.vms.size() ? world.vms[port].name : "#" + std::to_string(port);
  count_->violated("at " + sim::to_string(world.kernel.now()) + ": vm " + vm + " on " + host.name() + ": " + what);
  Annotations& a = context_.annotations;
  if (a.wants(AnnotationKind::kInvariantViolation)) {
    a.emit({world.kernel.now().ns(),
            AnnotationKind::kInvariantViolation,
            {{"invariant", std::string(kName)}, {"vm", vm}, {"host", host.name()}, {"detail", what}}});
  }
}

}  // namespace

std::unique_ptr<RunExtension> create_allowed_invariant(RunContext& context) {
  return std::make_unique<AllowedInvariant>(context);
}

}  // namespace scenarios
