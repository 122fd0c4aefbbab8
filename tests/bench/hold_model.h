#pragma once
// The classic hold model, shared by the segsim and the ns-3 kernel benchmarks so that both do
// exactly the same work: `pending` events are in the queue at all times; each event, when it runs,
// schedules one new event at now + an exponentially distributed delay (integer nanoseconds, mean
// `mean_delay_ns`), until `events` events have run. Only the run is timed, not the setup (filling
// the queue) nor the teardown.
//
// Both programs draw their delays from the same generator (sim::Rng, xoshiro256**) with the same
// seed, so the comparison measures the event kernels and not two random number libraries.
//
// This header is compiled as C++17 by the ns-3 program: it must not include C++20-only headers.

// GCC 12 reports a false -Wnull-dereference inside Boost.Program_options' string handling.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/program_options.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>

#include <time.h>  // clock_gettime

#include "sim/rng.h"

namespace bench {

struct HoldParams {
  uint64_t pending = 10'000;
  uint64_t events = 10'000'000;
  double mean_delay_ns = 1'000'000;  // 1 ms
  uint64_t seed = 1;
  std::string scheduler;             // which queue implementation to measure
  bool json = false;
};

struct HoldResult {
  double setup_seconds = 0;
  double run_seconds = 0;      // wall clock
  double run_cpu_seconds = 0;  // CPU time of the process: robust when the machine is shared
  uint64_t events_run = 0;
  double events_per_second() const { return run_seconds > 0 ? events_run / run_seconds : 0; }
  double events_per_cpu_second() const {
    return run_cpu_seconds > 0 ? events_run / run_cpu_seconds : 0;
  }
};

// Parses the command line shared by both programs. Returns false (after printing why, or the
// help text) when the program should exit; `exit_code` is then 0 for --help and 2 for bad input.
inline bool parse_hold_args(int argc, char** argv, const char* implementation,
                            const char* scheduler_help, const std::string& default_scheduler,
                            HoldParams& params, int& exit_code) {
  namespace po = boost::program_options;
  po::options_description options(std::string("Hold-model benchmark of the ") + implementation +
                                  " event kernel");
  options.add_options()
      ("help,h", "print this help")
      ("pending,n", po::value<uint64_t>(&params.pending)->default_value(params.pending),
       "events pending at all times (N)")
      ("events,e", po::value<uint64_t>(&params.events)->default_value(params.events),
       "events to execute in the timed run")
      ("mean-delay-ns", po::value<double>(&params.mean_delay_ns)->default_value(params.mean_delay_ns),
       "mean of the exponential rescheduling delay, in nanoseconds")
      ("seed", po::value<uint64_t>(&params.seed)->default_value(params.seed), "random seed")
      ("scheduler", po::value<std::string>(&params.scheduler)->default_value(default_scheduler),
       scheduler_help)
      ("json", po::bool_switch(&params.json), "print one JSON object instead of text");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n" << options;
    exit_code = 2;
    return false;
  }
  if (vm.count("help")) {
    std::cout << options;
    exit_code = 0;
    return false;
  }
  if (params.pending == 0 || params.events == 0 || !(params.mean_delay_ns > 0)) {
    std::cerr << argv[0] << ": --pending, --events and --mean-delay-ns must be positive\n";
    exit_code = 2;
    return false;
  }
  return true;
}

#pragma GCC diagnostic pop

// The delay source of the model: one generator for the whole model, as in the textbook version.
class HoldDelays {
 public:
  HoldDelays(uint64_t seed, double mean_ns) : rng_(sim::Rng::stream(seed, "hold")), mean_ns_(mean_ns) {}
  int64_t next_ns() { return static_cast<int64_t>(rng_.exponential(mean_ns_)); }

 private:
  sim::Rng rng_;
  double mean_ns_;
};

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Times `run` (wall clock and process CPU time) into `result`.
template <class Run>
void time_run(HoldResult& result, Run&& run) {
  const double cpu_start = process_cpu_seconds();
  const auto wall_start = std::chrono::steady_clock::now();
  result.events_run = run();
  result.run_seconds = seconds_since(wall_start);
  result.run_cpu_seconds = process_cpu_seconds() - cpu_start;
}

inline void print_hold_result(const char* implementation, const HoldParams& p, const HoldResult& r) {
  if (p.json) {
    std::printf(
        "{\"benchmark\": \"hold\", \"implementation\": \"%s\", \"scheduler\": \"%s\", "
        "\"pending\": %llu, \"events\": %llu, \"mean_delay_ns\": %.0f, \"seed\": %llu, "
        "\"setup_seconds\": %.6f, \"run_seconds\": %.6f, \"run_cpu_seconds\": %.6f, "
        "\"events_per_second\": %.1f, \"events_per_cpu_second\": %.1f}\n",
        implementation, p.scheduler.c_str(), static_cast<unsigned long long>(p.pending),
        static_cast<unsigned long long>(r.events_run), p.mean_delay_ns,
        static_cast<unsigned long long>(p.seed), r.setup_seconds, r.run_seconds, r.run_cpu_seconds,
        r.events_per_second(), r.events_per_cpu_second());
  } else {
    std::printf(
        "%s/%s: N=%llu pending, %llu events in %.3f s (setup %.3f s): %.2f M events/s, "
        "%.2f M events/CPU-s\n",
        implementation, p.scheduler.c_str(), static_cast<unsigned long long>(p.pending),
        static_cast<unsigned long long>(r.events_run), r.run_seconds, r.setup_seconds,
        r.events_per_second() / 1e6, r.events_per_cpu_second() / 1e6);
  }
}

}  // namespace bench
