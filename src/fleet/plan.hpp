// Observe, plan, execute: every change the fleet makes to the engine. A plan is a pure function of
// what is wanted and what was observed (observe.hpp): a list of single-container steps, each with
// its cause, printable as text so tests compare it without an engine. The executor (executor.hpp)
// carries steps out and decides nothing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compose/model.hpp"
#include "compose/profiles.hpp"
#include "fleet/observe.hpp"

namespace fleet {

struct Step {
  enum class Action {
    CreateNetwork,
    CreateVolume,
    CreateContainer,
    StartContainer,
    RenameContainer,
    RecreateContainer,
    PauseContainer,
    UnpauseContainer,
    RemoveContainer  // retire: thawed if paused, stopped within its grace period, removed
  };
  Action action;
  std::string service;       // the compose service or template the container is (to be) a replica of
  int number = 0;            // compose replicas: 1..N; spawned kernels: 0
  std::string target;        // network or volume engine name, or the container's (new) name
  std::string container_id;  // the existing container a step acts on
  std::string cause;
  std::string container_state;      // its state when observed
  std::string kernel_id;            // kernels: whose connection file to write or remove
  int host_port = 0;                // spawned kernels: first of the block of host ports to publish on
  std::optional<int> stop_timeout;  // RemoveContainer: seconds before SIGKILL (else the service's)
  std::string str() const;
};

struct Plan {
  std::vector<Step> setup;                         // networks and volumes, first
  std::vector<std::vector<std::string>> levels;    // services; a level depends only on earlier ones
  std::map<std::string, std::vector<Step>> steps;  // per service; steps of one service are independent
  std::string str() const;                         // one line per step, in execution order
  bool empty() const;
};

// Steps of one plan run level by level; within a level, removals first, then the rest in parallel.
struct UpRequest {
  // Exact counts (scale). Without one, a service gets at least the file's count: up adds missing
  // replicas but never removes running ones that scale or the autoscaler added.
  std::map<std::string, int> replicas;
  std::map<std::string, std::string> image_ids;  // the current id of each service's image
};

Plan plan_up(const compose::Project& project, const compose::Selection& selection, const Observed& observed,
             const UpRequest& request);

// A new kernel of template `service` (a service of the templates project).
struct SpawnRequest {
  std::string service;
  std::string kernel_id;
  std::string name;  // the container's; default llmspell-<kernel id>
  std::string owner;
  int host_port = 0;
  std::string cause;
};
Plan plan_spawn(const SpawnRequest& request);

// Retires each container (down, stop, stop-all, cleanup): one RemoveContainer step each, all in
// one level. `timeout`: seconds before SIGKILL, else each container's own.
Plan plan_retire(const std::vector<ObservedContainer>& containers, const std::string& cause,
                 std::optional<int> timeout);

// Pause or unpause each container that is not already so.
Plan plan_pause(const std::vector<ObservedContainer>& containers, bool pause, const std::string& cause);

}  // namespace fleet
