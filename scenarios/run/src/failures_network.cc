// Fabric failures: links down/up, link loss and corruption, switches down/up.

#include <algorithm>
#include <cstdlib>

#include "failures.h"
#include "scenarios/fabric_layout.h"

namespace scenarios {
namespace {

bool required(const TimelineEvent& event, const std::string& name, std::string& value, std::string& error) {
  const auto it = event.args.find(name);
  if (it == event.args.end()) {
    error = "missing argument '" + name + "'";
    return false;
  }
  value = it->second;
  return true;
}

// A probability written as a plain number in [0, 1].
bool probability(const std::string& name, const std::string& text, double& out, std::string& error) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(out >= 0 && out <= 1)) {
    error = name + ": expected a probability between 0 and 1 (e.g. 0.01), got '" + text + "'";
    return false;
  }
  return true;
}

uint64_t link_drops(models::Link& link, models::LinkDropReason reason) { return link.drops(reason); }

// The scenario names switches "leaf0", "spine1", "switch0" (fabric_layout.h); the model
// "leaf-0", "spine-1", "switch" (switched_fabric.h). Graph switches and hosts are the same.
std::string model_node_name(const std::string& name, const std::string& fabric_kind) {
  if (fabric_kind == "star" && name == "switch0") return "switch";
  if (fabric_kind == "leaf-spine") {
    for (const std::string prefix : {"leaf", "spine"}) {
      if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
        return prefix + "-" + name.substr(prefix.size());
    }
  }
  return name;
}

}  // namespace

std::size_t Failures::find_edge(const std::string& name, std::string& canonical, std::string& error) const {
  // The scenario's names (fabric_layout.h), either end first; the canonical one keys the records.
  const FabricLayout layout = layout_fabric(context_.scenario.fabric, context_.scenario.hosts);
  const FabricLink* link = layout.find_link(name);
  std::size_t edge = SIZE_MAX;
  if (link != nullptr) {
    const std::string& kind = context_.scenario.fabric.kind;
    edge = context_.world.fabric->find_edge(model_node_name(link->a, kind), model_node_name(link->b, kind));
    canonical = link->name;
  }
  if (edge == SIZE_MAX)
    error = "unknown link '" + name +
            "' (links are named '<a>--<b>' after their ends, e.g. h0--leaf0; see docs/scenario.md)";
  return edge;
}

std::size_t Failures::find_switch(const std::string& name, std::string& error) const {
  const FabricLayout layout = layout_fabric(context_.scenario.fabric, context_.scenario.hosts);
  std::size_t index = SIZE_MAX;
  if (std::find(layout.switches.begin(), layout.switches.end(), name) != layout.switches.end())
    index = context_.world.fabric->find_switch(model_node_name(name, context_.scenario.fabric.kind));
  if (index == SIZE_MAX) {
    std::string known;
    for (const std::string& s : layout.switches) known += (known.empty() ? "" : ", ") + s;
    error = "unknown switch '" + name + "' (switches: " + known + ")";
  }
  return index;
}

uint64_t Failures::cut_off_vms() const {
  World& world = context_.world;
  uint64_t vms = 0;
  for (uint32_t h = 0; h < world.hosts.size(); ++h) {
    bool reachable = false;
    for (const models::Link* uplink : world.fabric->uplinks(h)) reachable = reachable || uplink->up();
    if (!reachable && !world.fabric->uplinks(h).empty()) vms += world.hosts[h]->local_vms().size();
  }
  return vms;
}

void Failures::take_edge_down(std::size_t edge, const std::string& name, const std::string& cause) {
  models::SwitchedFabric& fabric = *context_.world.fabric;
  FailureRecord record;
  record.kind = "link_down";
  record.target = name;
  record.cause = cause;
  models::Link* a = &fabric.edge_link(edge, 0);
  models::Link* b = &fabric.edge_link(edge, 1);
  // What the dead cable lost: packets on it when it went down and packets sent into it since.
  record.drop_counter = [a, b] {
    return link_drops(*a, models::LinkDropReason::kLinkDown) + link_drops(*b, models::LinkDropReason::kLinkDown);
  };
  const uint64_t cut_before = cut_off_vms();
  fabric.set_edge_up(edge, false);
  record.vms_affected = cut_off_vms() - cut_before;
  open(std::move(record));
}

bool Failures::link_down(const TimelineEvent& event, std::string& error) {
  std::string written, name;
  if (!required(event, "link", written, error)) return false;
  const std::size_t edge = find_edge(written, name, error);
  if (edge == SIZE_MAX) return false;
  if (find_open("link_down", name) != nullptr) {
    error = "link '" + name + "' is already down";
    return false;
  }
  take_edge_down(edge, name, "timeline");
  return true;
}

bool Failures::link_up(const TimelineEvent& event, std::string& error) {
  std::string written, name;
  if (!required(event, "link", written, error)) return false;
  const std::size_t edge = find_edge(written, name, error);
  if (edge == SIZE_MAX) return false;
  if (find_open("link_down", name) == nullptr) {
    error = "link '" + name + "' is not down";
    return false;
  }
  context_.world.fabric->set_edge_up(edge, true);
  close("link_down", name);
  return true;
}

bool Failures::set_link_loss(const TimelineEvent& event, std::string& error) {
  std::string written, name, loss_text;
  if (!required(event, "link", written, error) || !required(event, "loss", loss_text, error)) return false;
  const std::size_t edge = find_edge(written, name, error);
  if (edge == SIZE_MAX) return false;
  double loss = 0, corruption = 0;
  if (!probability("loss", loss_text, loss, error)) return false;
  const auto c = event.args.find("corruption");
  if (c != event.args.end() && !probability("corruption", c->second, corruption, error)) return false;
  models::SwitchedFabric& fabric = *context_.world.fabric;
  models::Link* a = &fabric.edge_link(edge, 0);
  models::Link* b = &fabric.edge_link(edge, 1);
  // A new setting ends the previous one's record; 0 and 0 just ends it.
  close("link_loss", name);
  a->set_impairment(loss, corruption);
  b->set_impairment(loss, corruption);
  if (loss == 0 && corruption == 0) return true;
  FailureRecord record;
  record.kind = "link_loss";
  record.target = name;
  record.cause = "timeline";
  record.loss = loss;
  record.corruption = corruption;
  record.drop_counter = [a, b] {
    uint64_t n = 0;
    for (models::Link* l : {a, b})
      n += link_drops(*l, models::LinkDropReason::kLoss) + link_drops(*l, models::LinkDropReason::kCorrupted);
    return n;
  };
  open(std::move(record));
  return true;
}

void Failures::take_switch_down(std::size_t index, const std::string& name, const std::string& cause) {
  models::SwitchedFabric& fabric = *context_.world.fabric;
  FailureRecord record;
  record.kind = "switch_down";
  record.target = name;
  record.cause = cause;
  std::vector<models::Link*> links;
  for (std::size_t edge : fabric.switch_edges(index)) {
    links.push_back(&fabric.edge_link(edge, 0));
    links.push_back(&fabric.edge_link(edge, 1));
  }
  record.drop_counter = [links] {
    uint64_t n = 0;
    for (models::Link* l : links) n += link_drops(*l, models::LinkDropReason::kLinkDown);
    return n;
  };
  const uint64_t cut_before = cut_off_vms();
  fabric.set_switch_up(index, false);
  record.vms_affected = cut_off_vms() - cut_before;
  open(std::move(record));
}

bool Failures::fail_switch(const TimelineEvent& event, std::string& error) {
  std::string name;
  if (!required(event, "switch", name, error)) return false;
  const std::size_t index = find_switch(name, error);
  if (index == SIZE_MAX) return false;
  if (!context_.world.fabric->switch_up(index)) {
    error = "switch '" + name + "' is already down";
    return false;
  }
  take_switch_down(index, name, "timeline");
  return true;
}

bool Failures::recover_switch(const TimelineEvent& event, std::string& error) {
  std::string name;
  if (!required(event, "switch", name, error)) return false;
  const std::size_t index = find_switch(name, error);
  if (index == SIZE_MAX) return false;
  if (context_.world.fabric->switch_up(index)) {
    error = "switch '" + name + "' is not down";
    return false;
  }
  context_.world.fabric->set_switch_up(index, true);
  close("switch_down", name);
  return true;
}

}  // namespace scenarios
