// A kernel template: what a spawned kernel is a replica of (language, config, image, memory, cpus).
// A template is described as a compose service, so spawned kernels and compose kernels are made
// by the same container_spec, carry the same security baseline, and are handled by the same plans.
// Its identity (the template label) is what `find` matches on and what keys a warm pool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compose/model.hpp"
#include "fleet/container_spec.hpp"
#include "fleet/home.hpp"
#include "fleet/settings.hpp"

namespace fleet {

struct Template {
  std::string language;
  std::string config;  // a kernel config file name in the configs folder
  std::string image;
  std::int64_t memory = 0;
  double cpus = 0;
  std::int64_t pids_limit = 0;
};

// The template of fleet.toml's [templates.NAME] (image, memory and cpus from [kernels] unless given).
Template template_of(const TemplateSettings& s, const KernelDefaults& defaults);

// "lua-openai" for (lua, openai.toml).
std::string template_name(const std::string& language, const std::string& config);
std::string template_name(const Template& t);

// The kernel config files of the configs folder, sorted (fleet.toml is the fleet's own, not one).
std::vector<std::string> kernel_configs(const FleetHome& home);

// Checks a template against the host (config exists and is valid TOML, language known, limits
// sane): InvalidInput naming what is wrong, with the valid choices.
void check_template(const Template& t, const FleetHome& home);

// sha256 of what makes the kernel what it is: language, the config's name and content, image,
// limits. Not where the config lives: the same template from two checkouts (or two users' configs
// folders) is one template, and an edited config is another.
std::string template_identity(const Template& t, const FleetHome& home);

// Where a kernel is published when someone else chose (a Jupyter client's connection file): these
// host ports on this address, signed with this key.
struct FixedConnection {
  std::string ip;
  int ports[kKernelPortCount] = {};  // shell, iopub, stdin, control, hb
  std::string key;
  std::string connection_file;  // the file they come from (the kernel's launcher label)
};

// The template as a compose service named template_name(t): the kernel's command, user 1000, all
// capabilities dropped, no-new-privileges, memory/CPU/pids limits, the config mounted read-only,
// the five Jupyter ports published on `publish_ip` (host ports chosen per kernel), the heartbeat
// healthcheck. The same settings a compose kernel service has. With `fixed`: published on its
// address and ports, and the kernel given its key.
compose::Service template_service(const Template& t, const FleetHome& home, const std::string& publish_ip,
                                  const FixedConnection* fixed = nullptr);

// A project holding template services, for the executor (spawned kernels belong to no project).
compose::Project templates_project(const FleetHome& home, std::vector<compose::Service> services);

// The OS user running the fleet: the default owner of what it creates.
std::string current_user();

}  // namespace fleet
