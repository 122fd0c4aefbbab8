// Capture taps (scenario outputs.pcap): one pcap file per tapped VM port or fabric link, written
// while the run goes and committed when it finishes; the /pcap table lists them. What a tap
// shows is documented in models/include/models/capture_tap.h and docs/models.md.

#include <filesystem>
#include <set>

#include "capture_taps.h"
#include "analysis/temp_file_registry.h"
#include "models/capture_tap.h"
#include "scenarios/fabric_layout.h"

namespace scenarios {
namespace {

// The model names switches "leaf-0", "spine-1", "switch"; the scenario "leaf0", "spine1",
// "switch0" (fabric_layout.h). Graph switches and hosts have the same names in both.
std::string scenario_node_name(const std::string& model_name, const std::string& fabric_kind) {
  if (fabric_kind == "star" && model_name == "switch") return "switch0";
  if (fabric_kind == "leaf-spine") {
    for (const char* prefix : {"leaf-", "spine-"}) {
      const std::string p = prefix;
      if (model_name.compare(0, p.size(), p) == 0) return p.substr(0, p.size() - 1) + model_name.substr(p.size());
    }
  }
  return model_name;
}

// The scenario's name ("a--b") of the cable a model link ("from->to", "#k" for parallel links)
// belongs to; empty if the layout has no such cable.
std::string cable_name(const std::string& model_link, const Scenario& s, const FabricLayout& layout) {
  std::string name = model_link.substr(0, model_link.find('#'));
  const std::size_t arrow = name.find("->");
  if (arrow == std::string::npos) return {};
  const std::string a = scenario_node_name(name.substr(0, arrow), s.fabric.kind);
  const std::string b = scenario_node_name(name.substr(arrow + 2), s.fabric.kind);
  const FabricLink* link = layout.find_link(a + "--" + b);
  return link ? link->name : std::string();
}

class CaptureTaps final : public RunExtension {
 public:
  explicit CaptureTaps(World& world) : world_(world) {}
  ~CaptureTaps() override {
    detach();
    forget_temporaries();  // the taps' destructors remove what was not committed
  }

  void add_vm_tap(models::VmIndex vm, std::unique_ptr<models::CaptureTap> tap) {
    remember_temporaries(*tap);
    world_.vms[vm].capture = &tap->stream(0);
    taps_.push_back({std::move(tap), "vm"});
  }
  void add_link_tap(const std::vector<std::size_t>& links, std::unique_ptr<models::CaptureTap> tap) {
    remember_temporaries(*tap);
    for (std::size_t k = 0; k < links.size(); ++k) world_.fabric->link(links[k]).set_capture(&tap->stream(k));
    link_indices_.insert(link_indices_.end(), links.begin(), links.end());
    taps_.push_back({std::move(tap), "link"});
  }

  bool finish(analysis::ResultWriter& writer, RunSummary& summary, std::string& error) override {
    detach();  // nothing records after the run
    std::vector<std::string> names, kinds, paths;
    std::vector<uint64_t> packets, bytes;
    for (Tap& t : taps_) {
      if (!t.tap->commit(error)) return false;  // the remaining taps are removed unfinished
      names.push_back(t.tap->name());
      kinds.push_back(t.kind);
      paths.push_back(t.tap->path());
      packets.push_back(t.tap->records());
      bytes.push_back(t.tap->frame_bytes());
      summary.report_lines.push_back("pcap       " + t.tap->name() + ": " + std::to_string(t.tap->records()) +
                                     " frames -> " + t.tap->path());
    }
    return writer.write_table("/pcap",
                              {{"tap", "1", std::move(names)},
                               {"kind", "1", std::move(kinds)},
                               {"path", "1", std::move(paths)},
                               {"packets", "packets", std::move(packets)},
                               {"bytes", "bytes", std::move(bytes)}},
                              error);
  }

 private:
  struct Tap {
    std::unique_ptr<models::CaptureTap> tap;
    std::string kind;  // "vm" or "link"
  };
  // An interrupted run (SIGINT, SIGTERM) removes the temporaries like the result file's.
  void remember_temporaries(const models::CaptureTap& tap) {
    for (const std::string& path : tap.temporary_paths()) {
      analysis::register_temp_file(path);
      temporaries_.push_back(path);
    }
  }
  void forget_temporaries() {
    for (const std::string& path : temporaries_) analysis::unregister_temp_file(path);
    temporaries_.clear();
  }
  void detach() {
    for (models::VmIndex v = 0; v < world_.vms.size(); ++v) world_.vms[v].capture = nullptr;
    for (std::size_t l : link_indices_) world_.fabric->link(l).set_capture(nullptr);
  }

  World& world_;
  std::vector<Tap> taps_;
  std::vector<std::size_t> link_indices_;
  std::vector<std::string> temporaries_;
};

}  // namespace

std::unique_ptr<RunExtension> create_capture_taps(RunContext& context, std::string& error, int& exit_code) {
  const Scenario& s = context.scenario;
  World& world = context.world;
  if (s.outputs.pcap_ports.empty()) return nullptr;  // zero cost: nothing is attached
  std::filesystem::path directory = s.outputs.pcap_directory;
  if (directory.empty()) directory = std::filesystem::path(context.result_path).parent_path();
  if (!directory.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) {
      error = "outputs.pcap_directory: cannot create '" + directory.string() + "': " + ec.message();
      exit_code = 2;
      return nullptr;
    }
  }
  const FabricLayout layout = layout_fabric(s.fabric, s.hosts);
  auto taps = std::make_unique<CaptureTaps>(world);
  std::set<std::string> seen;
  for (const std::string& name : s.outputs.pcap_ports) {
    if (!seen.insert(name).second) continue;  // listed twice: one file
    models::CaptureTap::Params p;
    p.name = name;
    p.path = (directory / (name + ".pcap")).string();
    p.mss = s.transport.mss;
    p.snap_length = s.outputs.pcap_snap_length;
    const models::VmIndex vm = world.vms.find(name);
    std::vector<std::size_t> links;
    if (vm == models::kNoVm) {
      for (std::size_t l = 0; l < world.link_names.size(); ++l)
        if (cable_name(world.link_names[l], s, layout) == name) links.push_back(l);
      if (links.empty()) {
        error = "outputs.pcap: '" + name + "' is neither a VM nor a link of the built fabric";
        exit_code = 2;
        return nullptr;
      }
      p.streams = static_cast<uint32_t>(links.size());
    }
    auto tap = models::CaptureTap::create(p, error);
    if (!tap) {
      error = "outputs.pcap: " + name + ": " + error;
      exit_code = 1;
      return nullptr;
    }
    if (vm != models::kNoVm) {
      taps->add_vm_tap(vm, std::move(tap));
    } else {
      taps->add_link_tap(links, std::move(tap));
    }
  }
  exit_code = 0;
  return taps;
}

}  // namespace scenarios
