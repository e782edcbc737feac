// Which services an operation acts on, by compose's profile rules:
//  1. a service without profiles is always enabled;
//  2. a service is enabled when one of its profiles is active; the profile "*" enables every service;
//  3. active profiles come from --profile flags, and only without flags from COMPOSE_PROFILES;
//  4. naming a service activates its profiles, then narrows the operation to the named services and
//     their dependencies;
//  5. a required dependency on a disabled service is an error; an optional one is dropped;
//  6. (for the fleet) containers of disabled services are not orphans: nothing here removes them.
// `up dev` names a profile the way docker-fleet.sh did; a name that is both is an error.
#pragma once

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "compose/model.hpp"

namespace fleet::compose {

// Bad names on the command line: exit code 2. (A disabled required dependency is a ComposeError.)
struct SelectionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SelectionRequest {
  std::vector<std::string> profile_flags;
  std::vector<std::string> names;  // services, or (when names_may_be_profiles) profiles too
  bool names_may_be_profiles = false;
};

struct Selection {
  std::set<std::string> active_profiles;
  std::vector<std::string> enabled;   // every enabled service, dependencies first
  std::vector<std::string> targeted;  // what the operation acts on, dependencies first
  // Dependencies kept per targeted service (optional ones on disabled services dropped).
  std::map<std::string, std::vector<std::string>> dependencies;
};

Selection select_services(const Project& project, const SelectionRequest& request);

bool service_enabled(const Service& service, const std::set<std::string>& active_profiles);

// The services a service refers to outside depends_on, which compose treats as dependencies it must
// start first (required, condition service_started): links, volumes_from "service[:mode]",
// network_mode/pid/ipc "service:NAME". In order of appearance, without repeats.
std::vector<std::string> implicit_dependencies(const Service& service);

}  // namespace fleet::compose
