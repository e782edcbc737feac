#include "fleet/observe.hpp"

#include <algorithm>
#include <map>

#include "fleet/labels.hpp"
#include "fleet/templates.hpp"

namespace fleet {
namespace {

// Whether the image a container was made from carries the managed label itself: then the
// container's own says nothing (a container run by hand from a `docker commit` of a kernel).
bool managed_by_image(engine::Api& engine, const std::string& image_id, std::map<std::string, bool>& cache) {
  auto it = cache.find(image_id);
  if (it != cache.end()) return it->second;
  bool managed = false;
  try {
    if (!image_id.empty()) managed = engine.inspect_image(image_id).labels.count(labels::kManaged) > 0;
  } catch (const engine::NotFoundError&) {
    // The image is gone (a container keeps running from a removed image): nothing to compare.
  }
  return cache[image_id] = managed;
}

std::string value_of(const engine::Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

}  // namespace

std::string ObservedContainer::label(const char* key) const {
  return value_of(labels, key);
}

int ObservedContainer::host_port(int private_port) const {
  for (const auto& p : ports)
    if (p.private_port == private_port && p.public_port && p.type == "tcp") return p.public_port;
  return 0;
}

bool ObservedContainer::pooled() const {
  return kernel() && !label(labels::kPool).empty();
}

// A compose service's pool member keeps the name <project>-<service>-pool-<N> until handed out.
static bool service_pool_member(const ObservedContainer& c) {
  return c.pooled() && !c.project.empty() &&
         c.name == c.project + "-" + c.service + "-pool-" + std::to_string(c.number);
}

bool ObservedContainer::pool_filling() const {
  if (service_pool_member(*this)) return state != "paused";
  return pooled() && name.rfind(kPoolFillingPrefix, 0) == 0;
}

bool ObservedContainer::pool_ready() const {
  if (service_pool_member(*this)) return state == "paused";
  return pooled() && state == "paused" && name == "llmspell-" + kernel_id;
}

std::string ObservedContainer::owner() const {
  std::string o = label(labels::kOwner);
  if (!o.empty() || !pooled()) return o;
  const std::string prefix = "llmspell-" + kernel_id + "--";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : std::string();
}

std::string ObservedContainer::host_ip(int private_port) const {
  for (const auto& p : ports)
    if (p.private_port == private_port && p.public_port && p.type == "tcp") return p.ip;
  return "";
}

Observed observe_containers(engine::Api& engine, const engine::Filters& filters) {
  Observed o;
  std::map<std::string, bool> image_managed;
  for (const auto& c : engine.list_containers({.all = true, .filters = filters})) {
    const engine::Labels& labels = c.labels;
    // A swarm task's container on this engine (a manager's or a node's) is the swarm backend's.
    if (labels.count("com.docker.swarm.task.id")) continue;
    if (value_of(labels, labels::kManaged) != "true") {
      o.foreign.push_back(c.name() +
                          ": carries fleet or compose labels but not the fleet's managed label "
                          "(made by another tool, or by an older fleet)");
      continue;
    }
    if (managed_by_image(engine, c.image_id, image_managed)) {
      o.foreign.push_back(c.name() + ": its fleet labels come from its image (" + c.image +
                          "), not from the fleet");
      continue;
    }
    ObservedContainer oc;
    oc.id = c.id;
    oc.name = c.name();
    oc.state = c.state;
    oc.status = c.status;
    oc.created = c.created;
    oc.ports = c.ports;
    if (value_of(labels, labels::kKernel) == "true") {
      oc.kernel_id = value_of(labels, labels::kKernelId);
      // The id names the kernel's connection file on the host: a hand-made label must not reach
      // another path.
      if (oc.kernel_id.empty() || oc.kernel_id.find('/') != std::string::npos || oc.kernel_id[0] == '.') {
        o.foreign.push_back(oc.name + ": a kernel label with an id that is no plain name");
        continue;
      }
    }
    // The origin label says which labels the fleet wrote: a spawned kernel may have inherited
    // compose labels from an image compose built, and they never make it a project's.
    const std::string origin = value_of(labels, labels::kOrigin);
    if (origin == "compose" || (origin.empty() && labels.count(labels::kComposeProject))) {
      oc.project = value_of(labels, labels::kComposeProject);
      oc.service = value_of(labels, labels::kComposeService);
      oc.config_hash = value_of(labels, labels::kComposeConfigHash);
      oc.image_id = value_of(labels, labels::kComposeImage);
      try {
        oc.number = std::stoi(value_of(labels, labels::kComposeNumber));
      } catch (const std::exception&) {
        oc.number = 0;
      }
      if (oc.project.empty() || oc.service.empty() || oc.number < 1) {
        o.foreign.push_back(oc.name +
                            ": a compose container of the fleet without its project, service or number");
        continue;
      }
    } else if (origin == "spawned" && !oc.kernel_id.empty()) {
      oc.service = template_name(value_of(labels, labels::kLanguage), value_of(labels, labels::kConfig));
    } else {
      o.foreign.push_back(oc.name + ": a fleet container that is neither a compose replica nor a kernel");
      continue;
    }
    oc.labels = labels;
    o.containers.push_back(std::move(oc));
  }
  std::sort(o.containers.begin(), o.containers.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return o;
}

Observed observe_kernels(engine::Api& engine) {
  return observe_containers(engine, {{"label", {std::string(labels::kKernel) + "=true"}}});
}

Observed observe_project(engine::Api& engine, const std::string& project, bool with_networks) {
  const engine::Filters mine = {{"label", {std::string(labels::kComposeProject) + "=" + project}}};
  Observed o = observe_containers(engine, mine);
  std::erase_if(o.containers, [&](const ObservedContainer& c) {
    return c.project != project || c.label(labels::kComposeOneoff) == "True";
  });
  if (!with_networks) return o;
  for (const auto& n : engine.list_networks(mine)) o.networks.insert(n.name);
  for (const auto& v : engine.list_volumes(mine)) o.volumes.insert(v.name);
  return o;
}

std::string health_from_status(const std::string& status) {
  if (status.find("(healthy)") != std::string::npos) return "healthy";
  if (status.find("(unhealthy)") != std::string::npos) return "unhealthy";
  if (status.find("(health: starting)") != std::string::npos) return "starting";
  return "none";
}

}  // namespace fleet
