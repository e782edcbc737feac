// The executor of plans (plan.hpp): engine calls and progress, no decisions. Containers are created
// from the services of `project`: a compose project, or the kernel templates (templates.hpp).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "fleet/container_spec.hpp"
#include "fleet/operations.hpp"

namespace fleet {

struct ExecutionInput {
  std::map<std::string, std::string> image_ids;  // the current id of each service's image
  // Compose dependencies to wait for before a service's level runs (up); empty otherwise.
  const compose::Selection* selection = nullptr;
  // Called once a created container has started (its ports are bound), before readiness waits:
  // what holds a lock until then lets go here.
  std::function<void(const Step&)> started;
  std::string owner;  // kernels created by this run belong to this user unless the service says
  std::map<std::string, std::string> labels;  // extra labels for what this run creates
};

class Executor {
 public:
  Executor(Context& ctx, const compose::Project& project);
  void run(const Plan& plan, const ExecutionInput& input = {});

 private:
  void run_setup(const Step& step);
  void run_step(const Step& step);
  std::string create(const compose::Service& service, const Step& step, const std::string& name);
  void start(const compose::Service& service, const Step& step, const std::string& id);
  // `hooks`: run the service's pre_stop hooks first (a removal; not a recreate).
  void retire(const Step& step, bool hooks = false);
  // The containers of the services `service` refers to (links, volumes_from, service: namespaces).
  Peers peers_of(const compose::Service& service);
  void wait_for_dependencies(const std::string& service);
  void report(const std::string& object, const std::string& status,
              ProgressEvent::Kind kind = ProgressEvent::Kind::Working);

  Context& ctx_;
  const compose::Project& project_;
  ExecutionInput input_;
  std::mutex progress_mutex_;
};

// Runs a plan, then brings the host's record of the fleet up to date whatever happened (images a
// rebuild replaced and nothing uses any more, registry.json, stale connection files): the record
// follows the engine, also after a change that failed halfway. Trouble with the record is a warning.
void execute(Context& ctx, const compose::Project& project, const Plan& plan,
             const ExecutionInput& input = {});

}  // namespace fleet
