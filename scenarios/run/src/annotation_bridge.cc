#include "annotation_bridge.h"

#include <vector>

#include "dfw/types.h"
#include "models/fabric_drop_observer.h"
#include "models/host.h"
#include "models/host_stats.h"

namespace scenarios {
namespace {

class HostDropAnnotator final : public models::Host::DropObserver {
 public:
  HostDropAnnotator(World& world, Annotations& annotations, const models::Host& host,
                    models::Host::DropObserver* next)
      : world_(world), annotations_(annotations), host_(host), next_(next) {}

  void dfw_dropped(const models::Packet& packet, models::VmIndex port, dfw::DropReason reason) override {
    if (next_ != nullptr) next_->dfw_dropped(packet, port, reason);
    if (annotations_.wants(AnnotationKind::kDrop)) publish("dfw", dfw::drop_reason_name(reason), packet, port);
  }

  void host_dropped(const models::Packet& packet, models::HostDropReason reason) override {
    if (next_ != nullptr) next_->host_dropped(packet, reason);
    if (annotations_.wants(AnnotationKind::kDrop)) {
      publish("host", models::host_drop_reason_name(reason), packet, models::kNoVm);
    }
  }

 private:
  std::string vm_name(models::VmIndex vm) const { return vm < world_.vms.size() ? world_.vms[vm].name : ""; }

  void publish(std::string_view layer, std::string_view reason, const models::Packet& packet, models::VmIndex port) {
    annotations_.emit({world_.kernel.now().ns(),
                       AnnotationKind::kDrop,
                       {{"layer", std::string(layer)},
                        {"reason", std::string(reason)},
                        {"host", host_.name()},
                        {"port_vm", vm_name(port)},
                        {"source_vm", vm_name(packet.source_vm)},
                        {"destination_vm", vm_name(packet.destination_vm)},
                        {"bytes", static_cast<int64_t>(packet.wire_size)}}});
  }

  World& world_;
  Annotations& annotations_;
  const models::Host& host_;
  models::Host::DropObserver* next_;
};

// Fabric drops (links and switches). Nothing else observes the fabric, so no chaining.
class FabricDropAnnotator final : public models::FabricDropObserver {
 public:
  FabricDropAnnotator(World& world, Annotations& annotations) : world_(world), annotations_(annotations) {}

  void fabric_dropped(std::string_view layer, std::string_view reason, std::string_view where,
                      const models::Packet& packet) override {
    if (!annotations_.wants(AnnotationKind::kDrop)) return;
    annotations_.emit({world_.kernel.now().ns(),
                       AnnotationKind::kDrop,
                       {{"layer", std::string(layer)},
                        {"reason", std::string(reason)},
                        {"at", std::string(where)},
                        {"source_vm", vm_name(packet.source_vm)},
                        {"destination_vm", vm_name(packet.destination_vm)},
                        {"bytes", static_cast<int64_t>(packet.wire_size)}}});
  }

 private:
  std::string vm_name(models::VmIndex vm) const { return vm < world_.vms.size() ? world_.vms[vm].name : ""; }

  World& world_;
  Annotations& annotations_;
};

class AnnotationBridge final : public RunExtension {
 public:
  explicit AnnotationBridge(RunContext& context) : context_(context) {}
  ~AnnotationBridge() override {
    // Hand a host back the observer it had before start() only if ours is still installed: an
    // owner that cleared its observer on destruction already went, and must not come back.
    for (std::size_t h = 0; h < installed_.size(); ++h) {
      models::Host& host = *context_.world.hosts[h];
      if (host.drop_observer() == installed_[h].get()) host.set_drop_observer(previous_[h]);
    }
    if (fabric_annotator_ != nullptr) context_.world.fabric->set_drop_observer(nullptr);
  }

  // In start(), after every extension's constructor, so an observer one of them installed is
  // chained rather than replaced.
  void start() override {
    for (auto& host : context_.world.hosts) {
      models::Host::DropObserver* previous = host->drop_observer();
      installed_.push_back(
          std::make_unique<HostDropAnnotator>(context_.world, context_.annotations, *host, previous));
      previous_.push_back(previous);
      host->set_drop_observer(installed_.back().get());
    }
    if (context_.world.fabric != nullptr) {
      fabric_annotator_ = std::make_unique<FabricDropAnnotator>(context_.world, context_.annotations);
      context_.world.fabric->set_drop_observer(fabric_annotator_.get());
    }
  }

  bool finish(analysis::ResultWriter& /*writer*/, RunSummary& /*summary*/, std::string& /*error*/) override {
    return true;
  }

 private:
  RunContext& context_;
  std::vector<std::unique_ptr<HostDropAnnotator>> installed_;
  std::vector<models::Host::DropObserver*> previous_;
  std::unique_ptr<FabricDropAnnotator> fabric_annotator_;
};

}  // namespace

std::unique_ptr<RunExtension> create_annotation_bridge(RunContext& context) {
  return std::make_unique<AnnotationBridge>(context);
}

}  // namespace scenarios
