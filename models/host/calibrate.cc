#include "models/calibrate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <time.h>
#include <fstream>
#include <memory>
#include <sstream>

#include "dfw/datapath.h"
#include "dfw/rules.h"
#include "models/headers.h"
#include "sim/rng.h"

namespace models {

namespace {

// CPU time of this thread: on a shared machine, time the thread spent descheduled must not count
// as firewall work.
int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
constexpr dfw::PortId kPort = 1;
constexpr int kColumns = 6;  // intercept, bytes, probes, steps, created, frames

struct Flows {
  std::vector<Packet> packets;
  std::vector<dfw::PacketView> views;
};

uint32_t random_v4(sim::Rng& rng) { return (10u << 24) | static_cast<uint32_t>(rng.below(1u << 24)); }

IpAddress random_address(sim::Rng& rng, bool ipv6) {
  if (!ipv6) return IpAddress::v4(random_v4(rng));
  std::array<uint8_t, 16> bytes{0xfd, 0x00};
  for (int i = 8; i < 16; ++i) bytes[i] = static_cast<uint8_t>(rng.next_u64());
  return IpAddress::v6(bytes);
}

// `count` distinct flows (first packets): UDP with 1000 payload bytes, or TCP SYNs.
Flows make_flows(uint32_t count, bool ipv6, uint8_t protocol, sim::Rng& rng) {
  Flows flows;
  flows.packets.resize(count);
  const L2Addresses l2{{0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}};
  for (uint32_t i = 0; i < count; ++i) {
    FiveTuple t;
    t.source = random_address(rng, ipv6);
    t.destination = random_address(rng, ipv6);
    t.source_port = static_cast<uint16_t>(1024 + rng.below(60000));
    t.destination_port = static_cast<uint16_t>(1 + rng.below(65535));
    t.protocol = protocol;
    Packet& p = flows.packets[i];
    if (protocol == kProtocolTcp) {
      TcpFields tcp;
      tcp.seq = static_cast<uint32_t>(rng.next_u64());
      tcp.flags = tcp_flags::kSyn;
      tcp.window = 65535;
      tcp.mss_option = 1460;
      tcp.window_scale_option = 7;
      build_tcp_frame(p, l2, t, tcp, 0, 0);
    } else {
      build_udp_frame(p, l2, t, 1000);
    }
  }
  for (const Packet& p : flows.packets)
    flows.views.push_back({p.header.data(), p.header_size, p.wire_size, p.segment_count});
  return flows;
}

// `count` rules over random IPv4 sources and destination ports, allow, then `default_action`.
dfw::RuleTablePtr make_rules(uint32_t count, dfw::Action default_action, sim::Rng& rng,
                             std::string& error) {
  dfw::RuleSetSpec spec;
  spec.default_action = default_action;
  dfw::SectionSpec section{"calibration", {}};
  for (uint32_t i = 0; i < count; ++i) {
    dfw::RuleSpec rule;
    rule.id = i;
    dfw::IpPrefix prefix;
    const uint32_t address = random_v4(rng);
    const uint8_t length = static_cast<uint8_t>(16 + rng.below(17));  // /16 .. /32
    prefix.is_v4 = true;
    prefix.address[10] = 0xff;
    prefix.address[11] = 0xff;
    for (int b = 0; b < 4; ++b) prefix.address[12 + b] = static_cast<uint8_t>(address >> (24 - 8 * b));
    prefix.length = static_cast<uint8_t>(96 + length);
    // Zero the host bits so the prefix is canonical.
    for (int bit = 96 + length; bit < 128; ++bit)
      prefix.address[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    rule.sources.push_back(prefix);
    rule.protocol = rng.below(2) ? dfw::kProtoTcp : dfw::kProtoUdp;
    const auto first = static_cast<uint16_t>(1 + rng.below(65000));
    rule.destination_ports = {first, static_cast<uint16_t>(first + rng.below(500))};
    rule.action = dfw::Action::kAllow;
    section.rules.push_back(rule);
  }
  spec.sections.push_back(std::move(section));
  dfw::Status status;
  dfw::RuleTablePtr table = dfw::compile_rules(spec, status);
  if (!table) error = "calibrate: rule generation failed: " + status.message();
  return table;
}

struct BatchResult {
  double ns = 0;
  std::array<double, kColumns - 1> work{};  // sums: bytes, probes, steps, created, frames
};

BatchResult run_batch(dfw::Datapath& datapath, const Flows& flows, int64_t now) {
  BatchResult r;
  const int64_t start = thread_cpu_ns();
  for (const dfw::PacketView& view : flows.views) {
    const dfw::Result result = datapath.process(kPort, dfw::Direction::kEgress, view, now);
    r.work[0] += result.work.bytes_parsed;
    r.work[1] += result.work.hash_probes;
    r.work[2] += result.work.classifier_steps;
    r.work[3] += result.work.conns_created;
    r.work[4] += result.work.frames_generated;
  }
  r.ns = static_cast<double>(thread_cpu_ns() - start);
  return r;
}

CalibrationSample to_sample(std::string label, const BatchResult& best, double packets,
                            double clock_hz) {
  CalibrationSample s;
  s.label = std::move(label);
  s.bytes_parsed = best.work[0] / packets;
  s.hash_probes = best.work[1] / packets;
  s.classifier_steps = best.work[2] / packets;
  s.conns_created = best.work[3] / packets;
  s.frames_generated = best.work[4] / packets;
  s.cycles = best.ns / packets * clock_hz * 1e-9;
  return s;
}

std::array<double, kColumns> row_of(const CalibrationSample& s) {
  return {1.0, s.bytes_parsed, s.hash_probes, s.classifier_steps, s.conns_created,
          s.frames_generated};
}

// Least squares over the active columns (normal equations, columns scaled to unit norm,
// Gaussian elimination with partial pivoting). Columns with no signal get coefficient 0.
std::array<double, kColumns> least_squares(const std::vector<CalibrationSample>& samples,
                                           const std::array<bool, kColumns>& active) {
  std::array<double, kColumns> scale{};
  for (const auto& s : samples) {
    const auto row = row_of(s);
    for (int j = 0; j < kColumns; ++j) scale[j] += row[j] * row[j];
  }
  std::vector<int> cols;
  for (int j = 0; j < kColumns; ++j) {
    scale[j] = std::sqrt(scale[j]);
    if (active[j] && scale[j] > 0) cols.push_back(j);
  }
  const int n = static_cast<int>(cols.size());
  std::vector<std::vector<double>> m(n, std::vector<double>(n + 1, 0.0));
  for (const auto& s : samples) {
    const auto row = row_of(s);
    for (int a = 0; a < n; ++a) {
      const double xa = row[cols[a]] / scale[cols[a]];
      for (int b = 0; b < n; ++b) m[a][b] += xa * row[cols[b]] / scale[cols[b]];
      m[a][n] += xa * s.cycles;
    }
  }
  std::vector<bool> usable(n, true);
  for (int c = 0; c < n; ++c) {
    int pivot = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(m[r][c]) > std::abs(m[pivot][c])) pivot = r;
    std::swap(m[c], m[pivot]);
    if (std::abs(m[c][c]) < 1e-12) {  // collinear with earlier columns: no separate signal
      usable[c] = false;
      continue;
    }
    for (int r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = m[r][c] / m[c][c];
      for (int k = c; k <= n; ++k) m[r][k] -= f * m[c][k];
    }
  }
  std::array<double, kColumns> x{};
  for (int c = 0; c < n; ++c)
    if (usable[c]) x[cols[c]] = m[c][n] / m[c][c] / scale[cols[c]];
  return x;
}

double r_squared(const std::vector<CalibrationSample>& samples, const std::array<double, kColumns>& x) {
  double mean = 0;
  for (const auto& s : samples) mean += s.cycles;
  mean /= static_cast<double>(samples.size());
  double total = 0, residual = 0;
  for (const auto& s : samples) {
    const auto row = row_of(s);
    double predicted = 0;
    for (int j = 0; j < kColumns; ++j) predicted += x[j] * row[j];
    residual += (s.cycles - predicted) * (s.cycles - predicted);
    total += (s.cycles - mean) * (s.cycles - mean);
  }
  return total > 0 ? 1.0 - residual / total : 1.0;
}

std::string utc_date() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d", &tm);
  return buffer;
}

std::string join(const std::vector<uint32_t>& values) {
  std::string out;
  for (uint32_t v : values) {
    if (!out.empty()) out += ',';
    out += std::to_string(v);
  }
  return out;
}

}  // namespace

double fit_coefficients(const std::vector<CalibrationSample>& samples, CostCoefficients& out) {
  std::array<bool, kColumns> active;
  active.fill(true);
  std::array<double, kColumns> x{};
  if (samples.empty()) return 0;
  // Non-negative least squares by elimination: drop the most negative coefficient and refit.
  for (int round = 0; round < kColumns; ++round) {
    x = least_squares(samples, active);
    int worst = -1;
    for (int j = 0; j < kColumns; ++j)
      if (active[j] && x[j] < 0 && (worst < 0 || x[j] < x[worst])) worst = j;
    if (worst < 0) break;
    active[worst] = false;
    x[worst] = 0;
  }
  out.base = x[0];
  out.per_byte_parsed = x[1];
  out.per_hash_probe = x[2];
  out.per_classifier_step = x[3];
  out.per_connection_created = x[4];
  out.per_frame_generated = x[5];
  return r_squared(samples, x);
}

CalibrationMachine describe_this_machine() {
  CalibrationMachine machine;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    if (key == "model name" && machine.cpu_model.empty()) machine.cpu_model = value;
    if (key == "cpu MHz" && machine.clock_hz == 0)
      machine.clock_hz = static_cast<uint64_t>(std::llround(std::stod(value) * 1e6));
  }
  machine.measured_at = utc_date();
  return machine;
}

bool calibrate(const CalibrationOptions& options, Calibration& out, std::string& error,
               std::vector<CalibrationSample>* samples_out) {
  if (options.rule_counts.empty() || options.flow_counts.empty() || options.repetitions == 0 ||
      options.established_passes == 0 || options.sweeps == 0) {
    error = "calibrate: rule_counts and flow_counts must be non-empty; sweeps, repetitions and "
            "established_passes at least 1";
    return false;
  }
  CalibrationMachine machine = describe_this_machine();
  if (options.clock_hz != 0) machine.clock_hz = options.clock_hz;
  if (machine.clock_hz == 0) {
    error = "calibrate: the CPU clock is unknown (no 'cpu MHz' in /proc/cpuinfo); pass clock_hz";
    return false;
  }
  const double hz = static_cast<double>(machine.clock_hz);
  sim::Rng rng(options.seed);
  std::vector<CalibrationSample> samples;
  std::vector<double> destroy_cycles;
  auto note = [&](const CalibrationSample& s) {
    if (options.progress) {
      std::ostringstream line;
      line << s.label << ": " << s.cycles << " cycles/packet";
      options.progress(line.str());
    }
    samples.push_back(s);
  };

  dfw::DatapathConfig config;
  config.connection_limit = 4'000'000;
  const int64_t now = 1'000'000'000;
  struct Mix {
    const char* name;
    bool ipv6;
    uint8_t protocol;
  };
  const Mix mixes[] = {{"udp4", false, kProtocolUdp}, {"udp6", true, kProtocolUdp},
                       {"tcp4", false, kProtocolTcp}};
  for (uint32_t sweep = 0; sweep < options.sweeps; ++sweep) {
    for (uint32_t rule_count : options.rule_counts) {
      const dfw::RuleTablePtr allow = make_rules(rule_count, dfw::Action::kAllow, rng, error);
      const dfw::RuleTablePtr reject = make_rules(rule_count, dfw::Action::kReject, rng, error);
      if (!allow || !reject) return false;
      for (uint32_t flow_count : options.flow_counts) {
        for (const Mix& mix : mixes) {
          const Flows flows = make_flows(flow_count, mix.ipv6, mix.protocol, rng);
          const std::string suffix = std::string(" ") + mix.name + " rules=" +
                                     std::to_string(rule_count) + " flows=" + std::to_string(flow_count);
          BatchResult best_new, best_established, best_reject;
          best_new.ns = best_established.ns = best_reject.ns = INFINITY;
          double best_destroy = INFINITY;
          for (uint32_t rep = 0; rep < options.repetitions; ++rep) {
            // Warm the tables first (their memory is allocated and touched once), as on a host
            // in steady state, then flush and time the new-connection path.
            dfw::Datapath datapath(config);
            datapath.add_port(kPort, allow);
            run_batch(datapath, flows, now);
            datapath.flush_all_connections();
            const BatchResult created = run_batch(datapath, flows, now);
            if (created.ns < best_new.ns) best_new = created;
            if (mix.protocol == kProtocolUdp) {  // a lone SYN is not an established connection
              BatchResult passes;
              for (uint32_t p = 0; p < options.established_passes; ++p) {
                const BatchResult r = run_batch(datapath, flows, now + 1);
                passes.ns += r.ns;
                for (int k = 0; k < kColumns - 1; ++k) passes.work[k] += r.work[k];
              }
              if (passes.ns < best_established.ns) best_established = passes;
            }
            const uint64_t live = datapath.stats().live_connections;
            const int64_t start = thread_cpu_ns();
            datapath.expire(now + (int64_t{1} << 60));
            const auto ns = static_cast<double>(thread_cpu_ns() - start);
            if (live > 0) best_destroy = std::min(best_destroy, ns / static_cast<double>(live));

            dfw::Datapath rejecting(config);
            rejecting.add_port(kPort, reject);
            run_batch(rejecting, flows, now);
            const BatchResult rejected = run_batch(rejecting, flows, now);
            if (rejected.ns < best_reject.ns) best_reject = rejected;
          }
          const double packets = static_cast<double>(flows.views.size());
          note(to_sample("new" + suffix, best_new, packets, hz));
          if (mix.protocol == kProtocolUdp)
            note(to_sample("established" + suffix, best_established,
                           packets * options.established_passes, hz));
          note(to_sample("reject" + suffix, best_reject, packets, hz));
          if (std::isfinite(best_destroy)) destroy_cycles.push_back(best_destroy * hz * 1e-9);
        }
      }
    }
  }

  Calibration result;
  result.r_squared = fit_coefficients(samples, result.coefficients);
  if (!destroy_cycles.empty()) {
    std::sort(destroy_cycles.begin(), destroy_cycles.end());
    result.coefficients.per_connection_destroyed = destroy_cycles[destroy_cycles.size() / 2];
  }
  result.sample_count = samples.size();
  machine.method = "segsim calibrate: real dfw, " + std::to_string(options.sweeps) +
                   " pooled sweeps, " + std::to_string(samples.size()) +
                   " timed batches (new/established/reject x udp4/udp6/tcp4), rules {" +
                   join(options.rule_counts) + "}, flows {" + join(options.flow_counts) +
                   "}, fastest of " + std::to_string(options.repetitions) +
                   " runs (thread CPU time), non-negative least squares; per_connection_destroyed = median "
                   "expire() cost per connection";
  result.machine = machine;
  out = result;
  if (samples_out) *samples_out = std::move(samples);
  return true;
}

}  // namespace models
