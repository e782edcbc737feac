// Draining a kernel before it goes (scale-down, `stop`, idle culling): it is no longer handed out
// (find and the autoscaler skip it), the fleet waits until the kernel says it is idle with nothing
// pending, up to the drain timeout (past it: E2093, logged, and it stops anyway), saves a
// checkpoint when asked to, and leaves the stop and removal to the caller's plan. Every step is an
// event.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fleet/observe.hpp"
#include "fleet/operations.hpp"
#include "util/file_lock.hpp"

namespace fleet {

inline constexpr const char* kDrainTimeoutCode = "E2093";
inline constexpr const char* kScaleUpFailedCode = "E2090";
inline constexpr const char* kScaleDownFailedCode = "E2091";

// Whether a drain of this container is under way in any fleet process on the host.
bool draining(const std::string& container_id);

// The drain of one kernel: marks it draining for as long as it lives.
class Drain {
 public:
  Drain(Context& ctx, ObservedContainer kernel, DrainSettings settings, std::string cause);
  ~Drain();
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;

  // Waits for idle, then checkpoints (per the settings). Never throws: what failed is reported.
  DrainOutcome run();
  const ObservedContainer& kernel() const { return kernel_; }

 private:
  void emit(const std::string& action, const std::string& message, nlohmann::json details = {});
  Context& ctx_;
  ObservedContainer kernel_;
  DrainSettings settings_;
  std::string cause_;
  std::filesystem::path mark_;
  std::unique_ptr<util::FileLock> mark_lock_;  // held while the drain lasts: a crash lets go of it
};

// The drain settings that apply to a kernel: its template's in fleet.toml ([templates.NAME]), its
// compose service's x-fleet.graceful_drain, else the seed's defaults.
DrainSettings drain_settings_for(Context& ctx, const ObservedContainer& kernel,
                                 const compose::Project* project = nullptr);

// Drains these kernels at once; the drains stay marked until the returned objects go.
std::vector<std::unique_ptr<Drain>> drain_all(Context& ctx, const std::vector<ObservedContainer>& kernels,
                                              const std::vector<DrainSettings>& settings,
                                              const std::string& cause, std::vector<DrainOutcome>& outcomes);

}  // namespace fleet
