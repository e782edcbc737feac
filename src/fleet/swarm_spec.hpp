// A compose project as a swarm stack, named and labelled as `docker stack deploy` names and labels
// it (<project>_<key>, com.docker.stack.namespace), so `docker stack services` and `docker stack ps`
// see what the fleet deployed. Pure: the ServiceSpecs, overlay networks, secrets and configs are
// computed here; swarm_stack.cpp creates them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compose/model.hpp"

namespace fleet {

inline constexpr const char* kStackNamespace = "com.docker.stack.namespace";
inline constexpr const char* kStackImage = "com.docker.stack.image";
// On swarm services the fleet made: the hash of the spec it asked for (an unchanged service is not
// updated, so its tasks are not restarted).
inline constexpr const char* kSpecHash = "dev.llmspell.fleet.spec-hash";

// How the stack's services are reached.
struct SwarmEndpoints {
  // Whether the kernel has IPVS (a service's virtual IP and the routing mesh need it). Without it a
  // service resolves by DNS to its tasks (dnsrr) and publishes ports in host mode on its tasks' nodes.
  bool ipvs = false;
};

// What the swarm has of a secret or config the services refer to.
struct SwarmFileRef {
  std::string id, name;
};

struct StackNetwork {
  std::string key, name;
  bool external = false;
  nlohmann::json create_body;  // POST /networks/create
};

struct StackService {
  std::string key, name;  // compose's key, <project>_<key>
  nlohmann::json spec;    // the ServiceSpec, with kSpecHash among its labels
  bool kernel = false;
};

// The stack's name: the project's (stack names are lower case letters, digits, - and _).
std::string stack_service_name(const compose::Project& project, const std::string& service);
std::string stack_object_name(const compose::Project& project, const std::string& key);
// Labels every object of the stack carries.
std::map<std::string, std::string> stack_labels(const compose::Project& project);

// The overlay networks of the selected services (compose's default network when they name none).
std::vector<StackNetwork> stack_networks(const compose::Project& project,
                                         const std::vector<std::string>& services);

// The ServiceSpec of one service at `replicas`; `secrets` and `configs` map the top-level keys to
// what the swarm has. Settings a swarm cannot apply are added to `notes`, one line each.
StackService stack_service(const compose::Project& project, const compose::Service& service, int replicas,
                           const SwarmEndpoints& endpoints,
                           const std::map<std::string, SwarmFileRef>& secrets,
                           const std::map<std::string, SwarmFileRef>& configs,
                           std::vector<std::string>& notes);

// The same ServiceSpec at another replica count (scale: the hash is unchanged, replicas are not
// part of it).
nlohmann::json with_replicas(nlohmann::json spec, int replicas);

}  // namespace fleet
