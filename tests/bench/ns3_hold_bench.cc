// Hold-model benchmark of ns-3's simulator core with one of its schedulers (see hold_model.h).
// Compiled as C++17 against Debian's libns3-dev: ns-3 headers do not compile as C++20.
//
// This is the ordinary ns-3 way to write the model: a function that, when it runs, calls
// Simulator::Schedule for itself with the next delay; Simulator::Run drives it and
// Simulator::Stop ends it after the last counted event. The delays are the same integer
// nanoseconds, from the same generator and seed, as in the segsim program.

#include <cstdio>
#include <string>

#include "hold_model.h"
#include "ns3/nstime.h"
#include "ns3/object-factory.h"
#include "ns3/simulator.h"

namespace {

bench::HoldDelays* g_delays = nullptr;
uint64_t g_remaining = 0;
uint64_t g_executed = 0;

void Fire() {
  ++g_executed;
  if (--g_remaining == 0) {
    ns3::Simulator::Stop();
    return;
  }
  ns3::Simulator::Schedule(ns3::NanoSeconds(g_delays->next_ns()), &Fire);
}

}  // namespace

int main(int argc, char** argv) {
  bench::HoldParams params;
  int exit_code = 0;
  if (!bench::parse_hold_args(argc, argv, "ns-3", "ns-3 scheduler type: MapScheduler | "
                              "CalendarScheduler | HeapScheduler | PriorityQueueScheduler",
                              "PriorityQueueScheduler", params, exit_code)) {
    return exit_code;
  }
  if (params.scheduler != "MapScheduler" && params.scheduler != "CalendarScheduler" &&
      params.scheduler != "HeapScheduler" && params.scheduler != "PriorityQueueScheduler") {
    std::fprintf(stderr, "%s: --scheduler: unknown ns-3 scheduler '%s'\n", argv[0],
                 params.scheduler.c_str());
    return 2;
  }

  bench::HoldDelays delays(params.seed, params.mean_delay_ns);
  g_delays = &delays;
  g_remaining = params.events;

  bench::HoldResult result;
  const auto setup_start = std::chrono::steady_clock::now();
  ns3::ObjectFactory factory;
  factory.SetTypeId("ns3::" + params.scheduler);
  ns3::Simulator::SetScheduler(factory);
  for (uint64_t i = 0; i < params.pending; ++i) {
    ns3::Simulator::Schedule(ns3::NanoSeconds(delays.next_ns()), &Fire);
  }
  result.setup_seconds = bench::seconds_since(setup_start);

  bench::time_run(result, [] {
    ns3::Simulator::Run();
    return g_executed;
  });
  ns3::Simulator::Destroy();

  if (result.events_run != params.events) {
    std::fprintf(stderr, "%s: ran %llu events, expected %llu\n", argv[0],
                 static_cast<unsigned long long>(result.events_run),
                 static_cast<unsigned long long>(params.events));
    return 1;
  }
  bench::print_hold_result("ns-3", params, result);
  return 0;
}
