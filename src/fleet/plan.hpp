// Observe, plan, execute. A plan is a pure function of (desired project, selection, observed engine
// state): a list of single-container steps, each with its cause, printable as text so tests compare
// it without an engine. The executor (executor.hpp) carries steps out and decides nothing.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compose/model.hpp"
#include "compose/profiles.hpp"
#include "engine/types.hpp"

namespace fleet {

// What the engine has of the project, read back from labels.
struct ObservedContainer {
  std::string id;
  std::string name;
  std::string service;
  int number = 0;
  std::string state;  // created, running, paused, restarting, exited, dead
  std::string config_hash;
  std::string image_id;
  std::int64_t created = 0;
};

struct Observed {
  std::vector<ObservedContainer> containers;
  std::set<std::string> networks;  // engine names
  std::set<std::string> volumes;   // engine names
};

ObservedContainer observed_from(const engine::ContainerSummary& summary);

struct Step {
  enum class Action {
    CreateNetwork,
    CreateVolume,
    CreateContainer,
    StartContainer,
    RenameContainer,
    RecreateContainer,
    RemoveContainer
  };
  Action action;
  std::string service;
  int number = 0;
  std::string target;        // network or volume engine name, or the container's (new) name
  std::string container_id;  // the existing container a step acts on
  std::string cause;
  std::string container_state;  // its state when observed
  std::string str() const;
};

struct Plan {
  std::vector<Step> setup;                         // networks and volumes, first
  std::vector<std::vector<std::string>> levels;    // services; a level depends only on earlier ones
  std::map<std::string, std::vector<Step>> steps;  // per service; steps of one service are independent
  std::string str() const;                         // one line per step, in execution order
  bool empty() const;
};

struct UpRequest {
  // Exact counts (scale). Without one, a service gets at least the file's count: up adds missing
  // replicas but never removes running ones that scale or the autoscaler added.
  std::map<std::string, int> replicas;
  std::map<std::string, std::string> image_ids;  // the current id of each service's image
};

Plan plan_up(const compose::Project& project, const compose::Selection& selection, const Observed& observed,
             const UpRequest& request);

}  // namespace fleet
