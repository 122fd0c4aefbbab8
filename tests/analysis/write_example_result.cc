// Writes a small but complete result file for tests/analysis/test_results_h5py.py, which checks
// it with plain h5py and pandas: /meta, a whole table of every column type, a streamed table
// spanning several chunks, and a one-row /summary.
//
// Usage: analysis_example_writer OUT.h5 [ROWS]

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "analysis/result_writer.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: analysis_example_writer OUT.h5 [ROWS]\n";
    return 2;
  }
  const std::size_t streamed_rows = argc == 3 ? std::strtoull(argv[2], nullptr, 10) : 40000;
  std::string error;
  auto writer = analysis::ResultWriter::create(argv[1], error);
  if (!writer) {
    std::cerr << "analysis_example_writer: " << error << "\n";
    return 1;
  }
  namespace format = analysis::format;
  writer->set_meta(format::kScenarioNameKey, "example");
  writer->set_meta(format::kScenarioPathKey, "scenarios/example.yaml");
  writer->set_meta(format::kScenarioTextKey, std::string("name: example\nseed: 7\n"));
  writer->set_meta(format::kEffectiveScenarioKey, std::string("name: example\nseed: 7\n"));
  writer->set_meta(format::kSeedKey, uint64_t{7});

  const bool written =
      writer->write_table(
          "/flows",
          {{"flow_id", "1", std::vector<int64_t>{0, 1, 2}},
           {"bytes", "bytes", std::vector<uint64_t>{1500, 64, 9000}},
           {"completion_ns", "ns", std::vector<int64_t>{12000, 800, 50000}},
           {"goodput", "bit/s", std::vector<double>{1e9, 6.4e8, 1.44e9}},
           {"verdict", "1", std::vector<std::string>{"allow", "drop", "allow"}}},
          error) &&
      writer->write_table("/summary",
                          {{"packets", "packets", std::vector<uint64_t>{123456}},
                           {"events", "events", std::vector<uint64_t>{987654}},
                           {"p99_latency_ns", "ns", std::vector<double>{1500.5}}},
                          error);
  if (!written) {
    std::cerr << "analysis_example_writer: " << error << "\n";
    return 1;
  }

  auto series = writer->append_table("/hosts/h1/series",
                                     {{"time_ns", "ns", analysis::ColumnType::kInt64},
                                      {"utilization", "1", analysis::ColumnType::kFloat64},
                                      {"vm", "1", analysis::ColumnType::kString}},
                                     error);
  if (!series) {
    std::cerr << "analysis_example_writer: " << error << "\n";
    return 1;
  }
  std::vector<int64_t> times;
  std::vector<double> utilizations;
  std::vector<std::string> vms;
  for (std::size_t row = 0; row < streamed_rows; ++row) {
    times.push_back(static_cast<int64_t>(row) * 1'000'000);
    utilizations.push_back(static_cast<double>(row % 100) / 100.0);
    vms.push_back("vm" + std::to_string(row % 4));
    if (times.size() == 1000 || row + 1 == streamed_rows) {
      if (!series->append({times, utilizations, vms}, error)) {
        std::cerr << "analysis_example_writer: " << error << "\n";
        return 1;
      }
      times.clear();
      utilizations.clear();
      vms.clear();
    }
  }
  if (!series->finish(error) || !writer->commit(error)) {
    std::cerr << "analysis_example_writer: " << error << "\n";
    return 1;
  }
  std::cout << writer->path() << "\n";
  return 0;
}
