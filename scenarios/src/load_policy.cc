// policy: label-based rules in NSX-style categories, IP lists, named services. Given inline or
// as the name of a YAML file (relative to the scenario file) holding the same map.

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "addresses.h"
#include "sections.h"
#include "syntax_field.h"
#include "suggest.h"

namespace scenarios::detail {
namespace {

const std::vector<std::string> kCategories = {"emergency", "infrastructure", "environment", "application", "default"};
const std::vector<std::string> kActions = {"allow", "drop", "reject"};
constexpr uint32_t kFillerFirstPort = 20000;
constexpr uint32_t kMaxFillerRules = 65535 - kFillerFirstPort + 1;
constexpr const char* kServiceForms = "tcp/8080, udp/53, tcp/8000-8100, tcp, udp, icmp, icmpv6, any";

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

// "tcp/8080", "udp/1000-2000", "tcp", "icmp", "any"; sets `error` (and returns nullopt) for a
// protocol or port problem, returns nullopt with empty `error` when the text is no service form
// at all (it may then be a service name).
std::optional<ServiceSpec> parse_service_form(std::string_view text, std::string& error) {
  const size_t slash = text.find('/');
  const std::string_view protocol = text.substr(0, slash);
  ServiceSpec service;
  if (protocol == "any") service.protocol = 0;
  else if (protocol == "tcp") service.protocol = 6;
  else if (protocol == "udp") service.protocol = 17;
  else if (protocol == "icmp") service.protocol = 1;
  else if (protocol == "icmpv6") service.protocol = 58;
  else return std::nullopt;
  if (slash == std::string_view::npos) return service;
  if (service.protocol != 6 && service.protocol != 17) {
    error = "'" + std::string(text) + "': only tcp and udp have ports (expected e.g. " + kServiceForms + ")";
    return std::nullopt;
  }
  const std::string_view ports = text.substr(slash + 1);
  const size_t dash = ports.find('-');
  const auto first = parse_port(ports.substr(0, dash));
  const auto last = dash == std::string_view::npos ? first : parse_port(ports.substr(dash + 1));
  if (!first || !last) {
    error = "invalid port in '" + std::string(text) + "' (expected a port or range within 1-65535, e.g. tcp/8080 or tcp/8000-8100)";
    return std::nullopt;
  }
  if (*first > *last) {
    error = "impossible port range in '" + std::string(text) + "' (expected first <= last)";
    return std::nullopt;
  }
  service.port_first = *first;
  service.port_last = *last;
  return service;
}

// Label keys and values that VMs carry, for checking rule scopes.
using LabelIndex = std::map<std::string, std::set<std::string>>;

class PolicyReader {
 public:
  PolicyReader(LoadContext& ctx, const Scenario& scenario, PolicySpec& policy) : ctx_(ctx), policy_(policy) {
    for (const VmSpec& vm : scenario.vms) {
      for (const auto& [key, value] : vm.labels) labels_[key].insert(value);
    }
  }

  void read(const YAML::Node& node, const std::string& path, NameIndex& index) {
    MapReader r(ctx_, node, path, "a policy map {default_action, ip_lists, services, rules} or a policy file name");
    if (!r.is_map()) return;
    r.check_keys({"default_action", "ip_lists", "services", "rules", "filler_rules"});
    r.read_choice("default_action", policy_.default_action, kActions);
    if (const YAML::Node* n = r.find("ip_lists")) read_ip_lists(*n, r.field("ip_lists"));
    if (const YAML::Node* n = r.find("services")) read_services(*n, r.field("services"));
    if (const YAML::Node* n = r.find("rules")) read_rules(*n, r.field("rules"), index);
    uint32_t filler_count = 0;
    if (r.read_unsigned_as("filler_rules", filler_count, Need::optional, 0, kMaxFillerRules)) {
      add_filler_rules(filler_count, LoadContext::line_of(*r.find("filler_rules")), index);
    }
  }

 private:
  void read_ip_lists(const YAML::Node& node, const std::string& path) {
    MapReader r(ctx_, node, path, "a map of IP list name -> list of CIDRs");
    for (const std::string& name : r.keys()) {
      std::vector<std::string> cidrs;
      if (!r.read_string_list(name, cidrs, Need::required)) continue;
      bool valid = true;
      for (size_t i = 0; i < cidrs.size(); ++i) {
        if (!is_valid_cidr(cidrs[i])) {
          ctx_.error((*r.find(name))[i], join_path(r.field(name), i),
                     "invalid address or CIDR '" + cidrs[i] + "' (expected e.g. 192.0.2.0/24 or 2001:db8::/32)");
          valid = false;
        }
      }
      if (valid) policy_.ip_lists[name] = cidrs;
    }
  }

  void read_services(const YAML::Node& node, const std::string& path) {
    MapReader r(ctx_, node, path, "a map of service name -> e.g. tcp/8080");
    for (const std::string& name : r.keys()) {
      std::string text;
      if (!r.read_string(name, text, Need::required)) continue;
      std::string error;
      const auto service = parse_service_form(text, error);
      if (!service) {
        ctx_.error(*r.find(name), r.field(name),
                   error.empty() ? "invalid service '" + text + "' (expected " + kServiceForms + ")" : error);
        continue;
      }
      policy_.services[name] = *service;
    }
  }

  std::optional<ServiceSpec> read_service(const YAML::Node& node, const std::string& path) {
    const auto text = read_scalar(ctx_, node, path, std::string("a service such as ") + kServiceForms);
    if (!text) return std::nullopt;
    std::string error;
    if (auto service = parse_service_form(*text, error)) return service;
    if (!error.empty()) {
      ctx_.error(node, path, error);
      return std::nullopt;
    }
    if (const auto it = policy_.services.find(*text); it != policy_.services.end()) return it->second;
    std::vector<std::string> names;
    for (const auto& entry : policy_.services) names.push_back(entry.first);
    const std::string best = closest_match(*text, names);
    ctx_.error(node, path,
               "unknown service '" + *text + "' (expected " + kServiceForms + " or a name from policy.services" +
                   (best.empty() ? "" : "; did you mean '" + best + "'?") + ")");
    return std::nullopt;
  }

  void check_labels(const YAML::Node& node, const std::string& path, const std::map<std::string, std::string>& labels) {
    std::vector<std::string> keys;
    for (const auto& entry : labels_) keys.push_back(entry.first);
    for (const auto& [key, value] : labels) {
      const std::string field = join_path(path, key);
      const YAML::Node value_node = node[key] ? node[key] : node;
      const auto it = labels_.find(key);
      if (it == labels_.end()) {
        ctx_.error(value_node, field, "no VM has the label key '" + key + "'" + suggestion_suffix(key, keys));
        continue;
      }
      if (!it->second.count(value)) {
        const std::vector<std::string> values(it->second.begin(), it->second.end());
        ctx_.warning(value_node, field, "no VM has " + key + ": " + value + ", so this scope matches no VM" +
                                            suggestion_suffix(value, values));
      }
    }
  }

  ScopeSpec read_scope(const YAML::Node& node, const std::string& path) {
    ScopeSpec scope;
    if (node.IsScalar()) {
      if (node.Scalar() == "any") scope.any = true;
      else ctx_.error(node, path, "invalid scope '" + node.Scalar() + "' (expected any, a label map such as {role: web}, or {labels: {...}, ip_lists: [...]})");
      return scope;
    }
    MapReader r(ctx_, node, path, "a scope: any, a label map such as {role: web}, or {labels: {...}, ip_lists: [...]}");
    if (!r.is_map()) return scope;
    if (r.keys().empty()) {
      ctx_.error(node, path, "empty scope (expected labels or ip_lists; write 'any' to match everything)");
      return scope;
    }
    const bool explicit_form = r.find_key_node("labels") || r.find_key_node("ip_lists");
    if (!explicit_form) {
      // Shorthand: the map is the label map itself.
      scope.labels = read_labels(ctx_, node, path);
      check_labels(node, path, scope.labels);
      return scope;
    }
    r.check_keys({"labels", "ip_lists"}, " in a scope with labels/ip_lists (put labels under 'labels')");
    if (r.read_labels("labels", scope.labels)) check_labels(*r.find("labels"), r.field("labels"), scope.labels);
    r.read_string_list("ip_lists", scope.ip_lists);
    std::vector<std::string> names;
    for (const auto& entry : policy_.ip_lists) names.push_back(entry.first);
    for (size_t i = 0; i < scope.ip_lists.size(); ++i) {
      check_reference(ctx_, (*r.find("ip_lists"))[i], join_path(r.field("ip_lists"), i), scope.ip_lists[i], names, "ip_list");
    }
    return scope;
  }

  // Capacity planning asks "what if my rule set grows to N rules?": N allow rules from any
  // address to every workload, each for its own TCP port (20000, 20001, ...). Every port's table
  // holds them all, so the classifier builds and searches a table N rules larger, while the
  // scenario's own traffic (other ports) keeps its verdicts: they come after the file's
  // application rules and match none of its flows unless they use ports 20000 and up.
  void add_filler_rules(uint32_t count, int line, NameIndex& index) {
    for (uint32_t i = 0; i < count; ++i) {
      PolicyRuleSpec rule;
      rule.name = "filler-" + std::to_string(i);
      rule.category = "application";
      rule.from.any = true;
      rule.services.push_back({6, static_cast<uint16_t>(kFillerFirstPort + i), static_cast<uint16_t>(kFillerFirstPort + i)});
      rule.action = "allow";
      rule.line = line;
      index.rule_names.push_back(rule.name);
      policy_.rules.push_back(std::move(rule));
    }
    sort_by_category();
  }

  void sort_by_category() {
    auto rank = [](const std::string& category) {
      return std::find(kCategories.begin(), kCategories.end(), category) - kCategories.begin();
    };
    std::stable_sort(policy_.rules.begin(), policy_.rules.end(),
                     [&](const PolicyRuleSpec& a, const PolicyRuleSpec& b) { return rank(a.category) < rank(b.category); });
  }

  void read_rules(const YAML::Node& node, const std::string& path, NameIndex& index) {
    if (!node.IsSequence()) {
      ctx_.error(node, path, "expected a list of rules, got " + describe_node(node));
      return;
    }
    std::map<std::string, int> first_line;
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string rule_path = join_path(path, i);
      MapReader r(ctx_, node[i], rule_path, "a rule {name, category, from, to, services, action, log}");
      if (!r.is_map()) continue;
      r.check_keys({"name", "category", "from", "to", "services", "action", "log"});
      PolicyRuleSpec rule;
      rule.name = "rule-" + std::to_string(i);
      rule.line = LoadContext::line_of(node[i]);
      r.read_name("name", rule.name);
      if (const auto [it, inserted] = first_line.emplace(rule.name, rule.line); !inserted) {
        ctx_.error(r.find("name") ? *r.find("name") : node[i], r.field("name"),
                   "duplicate rule name '" + rule.name + "' (first used at line " + std::to_string(it->second) + ")");
      }
      r.read_choice("category", rule.category, kCategories);
      r.read_choice("action", rule.action, kActions, Need::required);
      r.read_bool("log", rule.log);
      const std::string scope_form = "a scope: any, a label map such as {role: web}, or {labels: ..., ip_lists: ...}";
      if (const YAML::Node* from = r.require("from", scope_form)) rule.from = read_scope(*from, r.field("from"));
      if (const YAML::Node* to = r.require("to", scope_form)) rule.to = read_scope(*to, r.field("to"));
      if (const YAML::Node* services = r.find("services")) {
        if (services->IsSequence()) {
          for (size_t k = 0; k < services->size(); ++k) {
            if (auto service = read_service((*services)[k], join_path(r.field("services"), k))) rule.services.push_back(*service);
          }
        } else if (auto service = read_service(*services, r.field("services"))) {
          rule.services.push_back(*service);
        }
      }
      index.rule_names.push_back(rule.name);
      policy_.rules.push_back(std::move(rule));
    }
    sort_by_category();
  }

  LoadContext& ctx_;
  PolicySpec& policy_;
  LabelIndex labels_;
};

}  // namespace

void read_policy(LoadContext& ctx, const YAML::Node& node, Scenario& scenario, NameIndex& index) {
  if (!node.IsScalar()) {
    PolicyReader(ctx, scenario, scenario.policy).read(node, "policy", index);
    return;
  }
  // A policy file: diagnostics inside it name that file.
  const std::filesystem::path path = ctx.resolve(node.Scalar());
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    ctx.error(node, "policy", "cannot read policy file '" + path.string() + "' (expected a readable YAML file)");
    return;
  }
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::ParserException& e) {
    ctx.diagnostics().error({path.string(), e.mark.line + 1, e.mark.column + 1}, field_near_line(text.str(), e.mark.line + 1),
                            "YAML syntax error: " + e.msg);
    return;
  }
  LoadContext file_ctx(ctx.diagnostics(), path.string(), path.parent_path());
  PolicyReader(file_ctx, scenario, scenario.policy).read(root, "", index);
}

}  // namespace scenarios::detail
