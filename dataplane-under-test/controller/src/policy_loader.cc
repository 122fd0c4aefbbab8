// The policy YAML loader. yaml-cpp reports syntax errors by throwing; that one call is wrapped
// and turned into a LoadError, and every later access uses only non-throwing yaml-cpp calls
// (Type, Scalar, Mark, iteration), so nothing escapes this file.

#include "controller/policy_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "controller/address.h"

namespace controller {

std::string LoadError::to_string() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += ": ";
  if (!field.empty()) s += field + ": ";
  return s + message;
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 3;  // suggest only close matches
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best.empty() ? "" : " (did you mean \"" + best + "\"?)";
}

bool parse_u16(std::string_view text, uint16_t& out) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > 65535) return false;
  out = static_cast<uint16_t>(value);
  return true;
}

bool parse_protocol(std::string_view text, uint8_t& out) {
  if (text == "any") out = dfw::kProtoAny;
  else if (text == "tcp") out = dfw::kProtoTcp;
  else if (text == "udp") out = dfw::kProtoUdp;
  else if (text == "icmp") out = dfw::kProtoIcmp;
  else if (text == "icmpv6") out = dfw::kProtoIcmpv6;
  else return false;
  return true;
}

const std::vector<std::string> kProtocolNames = {"any", "tcp", "udp", "icmp", "icmpv6"};

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  void load(const YAML::Node& root) {
    YAML::Node body = root;
    std::string prefix;
    if (root.IsMap() && root.size() == 1 && root.begin()->first.Scalar() == "policy") {
      body = root.begin()->second;
      prefix = "policy";
    }
    if (!body.IsMap()) {
      error(body, prefix, "expected a mapping with default_action, custom_labels, ip_lists, services, rules");
      return;
    }
    // Found sections (a default-constructed YAML::Node is a defined null, so keep flags apart).
    std::optional<YAML::Node> rules_node, custom_node, ip_lists_node, services_node, default_node;
    for (const auto& [key, value, key_at] : entries(body, prefix)) {
      if (key == "default_action") default_node = value;
      else if (key == "custom_labels") custom_node = value;
      else if (key == "ip_lists") ip_lists_node = value;
      else if (key == "services") services_node = value;
      else if (key == "rules") rules_node = value;
      else unknown_key(key_at, join(prefix, key), key, {"default_action", "custom_labels", "ip_lists", "services", "rules"});
    }
    if (default_node) load_default_action(*default_node, join(prefix, "default_action"));
    if (custom_node) load_custom_labels(*custom_node, join(prefix, "custom_labels"));
    if (ip_lists_node) load_ip_lists(*ip_lists_node, join(prefix, "ip_lists"));
    if (services_node) load_named_services(*services_node, join(prefix, "services"));
    if (rules_node) load_rules(*rules_node, join(prefix, "rules"));
  }

  Policy policy;
  std::vector<LoadError> errors;

  void error(const YAML::Node& at, const std::string& field, std::string message) {
    LoadError e;
    e.file = file_;
    if (at.IsDefined()) {
      YAML::Mark mark = at.Mark();
      if (mark.line >= 0) {
        e.line = mark.line + 1;
        e.column = mark.column + 1;
      }
    }
    e.field = field;
    e.message = std::move(message);
    errors.push_back(std::move(e));
  }

 private:
  static std::string join(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
  }

  struct Entry {
    std::string key;
    YAML::Node value;
    YAML::Node key_node;  // errors about the key itself point here
  };
  // A mapping's entries in document order; reports duplicate and non-scalar keys.
  std::vector<Entry> entries(const YAML::Node& map, const std::string& field) {
    std::vector<Entry> out;
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        error(it->first, field, "keys must be plain words");
        continue;
      }
      const std::string& key = it->first.Scalar();
      if (!seen.insert(key).second) {
        error(it->first, join(field, key), "duplicate key");
        continue;
      }
      out.push_back({key, it->second, it->first});
    }
    return out;
  }

  void unknown_key(const YAML::Node& at, const std::string& field, const std::string& key,
                   const std::vector<std::string>& allowed) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    error(at, field, "unknown key \"" + key + "\"" + did_you_mean(key, allowed) + "; expected one of: " + list);
  }

  bool scalar(const YAML::Node& node, const std::string& field, std::string& out, const char* what) {
    if (!node.IsScalar()) {
      error(node, field, std::string("expected ") + what);
      return false;
    }
    out = node.Scalar();
    return true;
  }

  // A list of scalars; a single scalar counts as a list of one.
  std::vector<std::pair<std::string, YAML::Node>> scalar_list(const YAML::Node& node, const std::string& field,
                                                               const char* what) {
    std::vector<std::pair<std::string, YAML::Node>> out;
    if (node.IsScalar()) {
      out.emplace_back(node.Scalar(), node);
    } else if (node.IsSequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        std::string text;
        if (scalar(node[i], field + "[" + std::to_string(i) + "]", text, what)) out.emplace_back(text, node[i]);
      }
    } else {
      error(node, field, std::string("expected a list of ") + what);
    }
    return out;
  }

  void load_default_action(const YAML::Node& node, const std::string& field) {
    std::string text;
    if (!scalar(node, field, text, "allow, drop or reject")) return;
    if (!parse_action(text, policy.default_action)) {
      error(node, field, "unknown action \"" + text + "\"; expected allow, drop or reject");
    }
  }

  void load_custom_labels(const YAML::Node& node, const std::string& field) {
    for (const auto& [key, at] : scalar_list(node, field, "label keys")) {
      bool standard = std::find(kStandardLabelKeys.begin(), kStandardLabelKeys.end(), key) != kStandardLabelKeys.end();
      bool reserved = std::find(kReservedScopeKeys.begin(), kReservedScopeKeys.end(), key) != kReservedScopeKeys.end();
      if (key.empty()) error(at, field, "empty label key");
      else if (standard) error(at, field, "\"" + key + "\" is a standard label key; list only custom keys");
      else if (reserved) error(at, field, "\"" + key + "\" is reserved scope syntax, not a label key");
      else if (is_known_label_key(policy, key)) error(at, field, "duplicate label key \"" + key + "\"");
      else policy.custom_labels.push_back(key);
    }
  }

  void load_ip_lists(const YAML::Node& node, const std::string& field) {
    if (!node.IsMap()) {
      error(node, field, "expected a mapping of list name to CIDRs");
      return;
    }
    for (const auto& [name, value, key_at] : entries(node, field)) {
      std::vector<dfw::IpPrefix> prefixes;
      for (const auto& [text, at] : scalar_list(value, join(field, name), "CIDRs")) {
        dfw::IpPrefix prefix;
        if (!parse_prefix(text, prefix)) {
          error(at, join(field, name), "\"" + text + "\" is not a CIDR (e.g. 10.0.0.0/8, 2001:db8::/32) or has host bits set");
          continue;
        }
        prefixes.push_back(prefix);
      }
      if (prefixes.empty() && value.IsSequence() && value.size() == 0) error(value, join(field, name), "empty list");
      policy.ip_lists[name] = std::move(prefixes);
    }
  }

  bool load_service_map(const YAML::Node& node, const std::string& field, Service& out) {
    Service s;
    bool ok = true, has_first = false, has_last = false, has_protocol = false;
    for (const auto& [key, value, key_at] : entries(node, field)) {
      std::string text;
      std::string sub = join(field, key);
      if (!scalar(value, sub, text, "a value")) {
        ok = false;
        continue;
      }
      if (key == "protocol") {
        has_protocol = true;
        if (!parse_protocol(text, s.protocol)) {
          error(value, sub, "unknown protocol \"" + text + "\"" + did_you_mean(text, kProtocolNames) +
                                "; expected any, tcp, udp, icmp or icmpv6");
          ok = false;
        }
      } else if (key == "port_first" || key == "port_last") {
        uint16_t port;
        if (!parse_u16(text, port)) {
          error(value, sub, "\"" + text + "\" is not a port (0..65535)");
          ok = false;
        } else if (key == "port_first") {
          s.port_first = port;
          has_first = true;
        } else {
          s.port_last = port;
          has_last = true;
        }
      } else if (key == "icmp_type") {
        uint16_t type;
        if (!parse_u16(text, type) || type > 255) {
          error(value, sub, "\"" + text + "\" is not an ICMP type (0..255)");
          ok = false;
        } else {
          s.icmp_type = static_cast<int16_t>(type);
        }
      } else {
        unknown_key(key_at, sub, key, {"protocol", "port_first", "port_last", "icmp_type"});
        ok = false;
      }
    }
    if (!has_protocol) {
      error(node, join(field, "protocol"), "missing; expected any, tcp, udp, icmp or icmpv6");
      return false;
    }
    if (has_first && !has_last) s.port_last = s.port_first;  // a single port
    if (has_last && !has_first) s.port_first = s.port_last;
    if (!ok) return false;
    if (Status st = check_service(s, field); !st) {
      // check_service prefixes the message with `field`; keep only the reason.
      std::string message = st.message().substr(field.size() + 2);
      error(node, field, message);
      return false;
    }
    out = s;
    return true;
  }

  void load_named_services(const YAML::Node& node, const std::string& field) {
    if (!node.IsMap()) {
      error(node, field, "expected a mapping of service name to a service (tcp/8080 or {protocol: tcp, port_first: 8080})");
      return;
    }
    for (const auto& [name, value, key_at] : entries(node, field)) {
      std::string sub = join(field, name);
      Service service;
      if (std::find(kProtocolNames.begin(), kProtocolNames.end(), name) != kProtocolNames.end() ||
          name.find('/') != std::string::npos) {
        error(value, sub, "a service name may not be a protocol name or contain '/'");
        continue;
      }
      if (value.IsMap()) {
        if (load_service_map(value, sub, service)) policy.services[name] = service;
      } else if (value.IsScalar()) {
        std::string why;
        if (parse_service(value.Scalar(), service, why)) policy.services[name] = service;
        else error(value, sub, why);
      } else {
        error(value, sub, "expected a service (tcp/8080 or {protocol: tcp, port_first: 8080})");
      }
    }
  }

  void load_rule_services(const YAML::Node& node, const std::string& field, Rule& rule) {
    std::vector<std::string> names;
    for (const auto& [name, service] : policy.services) names.push_back(name);
    auto one = [&](const YAML::Node& item, const std::string& sub) {
      Service service;
      if (item.IsMap()) {
        if (load_service_map(item, sub, service)) rule.services.push_back(service);
        return;
      }
      if (!item.IsScalar()) {
        error(item, sub, "expected a service name, tcp/8080-style text or a mapping");
        return;
      }
      const std::string& text = item.Scalar();
      if (auto it = policy.services.find(text); it != policy.services.end()) {
        rule.services.push_back(it->second);
        return;
      }
      std::string why;
      if (parse_service(text, service, why)) {
        rule.services.push_back(service);
      } else if (text.find('/') == std::string::npos &&
                 std::find(kProtocolNames.begin(), kProtocolNames.end(), text) == kProtocolNames.end()) {
        error(item, sub, "unknown service \"" + text + "\"" + did_you_mean(text, names) +
                             "; name one under services: or write e.g. tcp/8080");
      } else {
        error(item, sub, why);
      }
    };
    if (node.IsSequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) one(node[i], field + "[" + std::to_string(i) + "]");
    } else {
      one(node, field);
    }
    if (rule.services.size() > kMaxServicesPerRule) error(node, field, "more than 256 services");
  }

  void load_label(const YAML::Node& key_node, const YAML::Node& value, const std::string& field,
                  const std::string& key, Scope& scope) {
    if (!is_known_label_key(policy, key)) {
      std::vector<std::string> allowed(kStandardLabelKeys.begin(), kStandardLabelKeys.end());
      allowed.insert(allowed.end(), policy.custom_labels.begin(), policy.custom_labels.end());
      error(key_node, field, "unknown label key \"" + key + "\"" + did_you_mean(key, allowed) +
                                 "; known keys are role, app, env, loc and those under custom_labels:");
      return;
    }
    std::string text;
    if (!scalar(value, field, text, "a label value")) return;
    if (text.empty()) {
      error(value, field, "empty label value");
      return;
    }
    if (!scope.labels.emplace(key, text).second) error(value, field, "label given twice");
  }

  // `any`, a label map ({role: web, app: shop}), or the explicit form {labels: {...}, ip_lists:
  // [...]} (the same forms as the scenario loader's policy section).
  void load_scope(const YAML::Node& node, const std::string& field, Scope& scope) {
    if (node.IsScalar() && node.Scalar() == "any") {
      scope.any = true;
      return;
    }
    if (!node.IsMap()) {
      error(node, field, "expected `any`, a label map such as {role: web}, or {labels: {...}, ip_lists: [...]}");
      return;
    }
    if (node.size() == 0) {
      error(node, field, "empty scope (expected labels or ip_lists; write `any` to match everything)");
      return;
    }
    bool explicit_form = false;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.IsScalar() && (it->first.Scalar() == "labels" || it->first.Scalar() == "ip_lists")) {
        explicit_form = true;
      }
    }
    for (const auto& [key, value, key_at] : entries(node, field)) {
      std::string sub = join(field, key);
      if (!explicit_form) {
        load_label(key_at, value, sub, key, scope);  // shorthand: the map is the label map
      } else if (key == "labels") {
        if (!value.IsMap()) {
          error(value, sub, "expected a mapping of label key to value");
          continue;
        }
        for (const auto& [label, label_value, label_at] : entries(value, sub)) {
          load_label(label_at, label_value, join(sub, label), label, scope);
        }
      } else if (key == "ip_lists") {
        std::vector<std::string> names;
        for (const auto& [name, list] : policy.ip_lists) names.push_back(name);
        for (const auto& [name, at] : scalar_list(value, sub, "ip_list names")) {
          if (!policy.ip_lists.contains(name)) {
            error(at, sub, "unknown ip_list \"" + name + "\"" + did_you_mean(name, names));
          } else {
            scope.ip_lists.push_back(name);
          }
        }
      } else {
        error(key_at, sub, "unknown key \"" + key + "\" in a scope with labels/ip_lists (put labels under `labels`)");
      }
    }
  }

  void load_rules(const YAML::Node& node, const std::string& field) {
    if (!node.IsSequence()) {
      error(node, field, "expected a list of rules");
      return;
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < node.size(); ++i) {
      YAML::Node item = node[i];
      std::string rule_field = field + "[" + std::to_string(i) + "]";
      if (!item.IsMap()) {
        error(item, rule_field, "expected a rule mapping (name, category, from, to, services, action, log)");
        continue;
      }
      Rule rule;
      bool has_from = false, has_to = false, has_action = false;
      for (const auto& [key, value, key_at] : entries(item, rule_field)) {
        std::string sub = join(rule_field, key);
        std::string text;
        if (key == "name") {
          if (scalar(value, sub, text, "a name")) {
            if (!names.insert(text).second) error(value, sub, "duplicate rule name \"" + text + "\"");
            rule.name = text;
          }
        } else if (key == "category") {
          if (scalar(value, sub, text, "a category") && !parse_category(text, rule.category)) {
            error(value, sub, "unknown category \"" + text + "\"" +
                                  did_you_mean(text, {"emergency", "infrastructure", "environment", "application", "default"}) +
                                  "; expected emergency, infrastructure, environment, application or default");
          }
        } else if (key == "from") {
          has_from = true;
          load_scope(value, sub, rule.from);
        } else if (key == "to") {
          has_to = true;
          load_scope(value, sub, rule.to);
        } else if (key == "services") {
          load_rule_services(value, sub, rule);
        } else if (key == "action") {
          has_action = true;
          if (scalar(value, sub, text, "allow, drop or reject") && !parse_action(text, rule.action)) {
            error(value, sub, "unknown action \"" + text + "\"; expected allow, drop or reject");
          }
        } else if (key == "log") {
          if (scalar(value, sub, text, "true or false")) {
            if (text == "true") rule.log = true;
            else if (text != "false") error(value, sub, "expected true or false");
          }
        } else {
          unknown_key(key_at, sub, key, {"name", "category", "from", "to", "services", "action", "log"});
        }
      }
      if (!has_from) error(item, join(rule_field, "from"), "missing; write `any` or a scope");
      if (!has_to) error(item, join(rule_field, "to"), "missing; write `any` or a scope");
      if (!has_action) error(item, join(rule_field, "action"), "missing; expected allow, drop or reject");
      if (rule.name.empty()) rule.name = "rule-" + std::to_string(i);
      policy.rules.push_back(std::move(rule));
    }
  }

  std::string file_;
};

}  // namespace

bool parse_service(std::string_view text, Service& out, std::string& why) {
  Service s;
  std::string_view protocol = text;
  std::string_view rest;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    protocol = text.substr(0, slash);
    rest = text.substr(slash + 1);
  }
  if (!parse_protocol(protocol, s.protocol)) {
    why = "unknown protocol \"" + std::string(protocol) + "\"; expected any, tcp, udp, icmp or icmpv6";
    return false;
  }
  if (!rest.empty() || text.find('/') != std::string_view::npos) {
    if (s.protocol == dfw::kProtoTcp || s.protocol == dfw::kProtoUdp) {
      std::string_view first = rest, last = rest;
      if (auto dash = rest.find('-'); dash != std::string_view::npos) {
        first = rest.substr(0, dash);
        last = rest.substr(dash + 1);
      }
      if (!parse_u16(first, s.port_first) || !parse_u16(last, s.port_last)) {
        why = "\"" + std::string(text) + "\": ports must be numbers in 0..65535 (tcp/80 or tcp/8000-8099)";
        return false;
      }
      if (s.port_first > s.port_last) {
        why = "\"" + std::string(text) + "\": impossible port range (first > last)";
        return false;
      }
    } else if (s.protocol == dfw::kProtoIcmp || s.protocol == dfw::kProtoIcmpv6) {
      uint16_t type;
      if (!parse_u16(rest, type) || type > 255) {
        why = "\"" + std::string(text) + "\": ICMP type must be 0..255 (icmp/8)";
        return false;
      }
      s.icmp_type = static_cast<int16_t>(type);
    } else {
      why = "\"" + std::string(text) + "\": protocol any takes no port";
      return false;
    }
  }
  out = s;
  return true;
}

PolicyLoadResult load_policy_text(std::string_view text, const std::string& file_name) {
  Loader loader(file_name);
  YAML::Node root;
  // yaml-cpp's parser throws on syntax errors; this is the only place it can.
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    LoadError error;
    error.file = file_name;
    if (e.mark.line >= 0) {
      error.line = e.mark.line + 1;
      error.column = e.mark.column + 1;
    }
    error.message = "YAML syntax: " + e.msg;
    PolicyLoadResult result;
    result.errors.push_back(std::move(error));
    return result;
  }
  if (root.IsNull()) loader.error(root, "", "empty document; expected a policy");
  else loader.load(root);
  PolicyLoadResult result;
  result.policy = std::move(loader.policy);
  result.errors = std::move(loader.errors);
  if (result.ok()) {
    // The loader checks everything validate_policy does; this guards the two from drifting.
    if (Status s = validate_policy(result.policy); !s) {
      result.errors.push_back({file_name, 0, 0, "", s.message()});
    }
  }
  return result;
}

PolicyLoadResult load_policy_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    PolicyLoadResult result;
    result.errors.push_back({path, 0, 0, "", "cannot open file"});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_policy_text(text.str(), path);
}

}  // namespace controller
