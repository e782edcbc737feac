#include "fleet/observe.hpp"

#include <algorithm>
#include <map>

#include "fleet/labels.hpp"
#include "fleet/templates.hpp"

namespace fleet {
namespace {

// The labels a container carries minus those it inherited from its image (same key, same value).
engine::Labels written_labels(engine::Api& engine, const engine::ContainerSummary& c,
                              std::map<std::string, engine::Labels>& image_labels) {
  auto cached = image_labels.find(c.image_id);
  if (cached == image_labels.end()) {
    engine::Labels labels;
    try {
      if (!c.image_id.empty()) labels = engine.inspect_image(c.image_id).labels;
    } catch (const engine::NotFoundError&) {
      // The image is gone (a container keeps running from a removed image): nothing was inherited
      // that we could tell apart.
    }
    cached = image_labels.emplace(c.image_id, std::move(labels)).first;
  }
  engine::Labels out;
  for (const auto& [key, value] : c.labels) {
    auto inherited = cached->second.find(key);
    if (inherited == cached->second.end() || inherited->second != value) out.emplace(key, value);
  }
  return out;
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

Observed observe_containers(engine::Api& engine, const engine::Filters& filters) {
  Observed o;
  std::map<std::string, engine::Labels> image_labels;
  for (const auto& c : engine.list_containers({.all = true, .filters = filters})) {
    engine::Labels labels = written_labels(engine, c, image_labels);
    if (value_of(labels, labels::kManaged) != "true") {
      o.foreign.push_back(c.name() + ": its fleet labels come from its image, not from the fleet");
      continue;
    }
    ObservedContainer oc;
    oc.id = c.id;
    oc.name = c.name();
    oc.state = c.state;
    oc.status = c.status;
    oc.created = c.created;
    oc.ports = c.ports;
    oc.project = value_of(labels, labels::kComposeProject);
    oc.config_hash = value_of(labels, labels::kComposeConfigHash);
    oc.image_id = value_of(labels, labels::kComposeImage);
    if (value_of(labels, labels::kKernel) == "true") oc.kernel_id = value_of(labels, labels::kKernelId);
    if (!oc.project.empty()) {
      oc.service = value_of(labels, labels::kComposeService);
      try {
        oc.number = std::stoi(value_of(labels, labels::kComposeNumber));
      } catch (const std::exception&) {
        oc.number = 0;
      }
      if (oc.service.empty() || oc.number < 1) {
        o.foreign.push_back(oc.name + ": a container of project " + oc.project +
                            " without a service and replica number");
        continue;
      }
    } else if (oc.kernel_id.empty()) {
      o.foreign.push_back(oc.name + ": a fleet container that is neither a compose replica nor a kernel");
      continue;
    } else {
      oc.service = template_name(value_of(labels, labels::kLanguage), value_of(labels, labels::kConfig));
    }
    oc.labels = std::move(labels);
    o.containers.push_back(std::move(oc));
  }
  std::sort(o.containers.begin(), o.containers.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return o;
}

Observed observe_kernels(engine::Api& engine) {
  return observe_containers(engine, {{"label", {std::string(labels::kKernel) + "=true"}}});
}

Observed observe_project(engine::Api& engine, const std::string& project) {
  const engine::Filters mine = {{"label", {std::string(labels::kComposeProject) + "=" + project}}};
  Observed o = observe_containers(engine, mine);
  std::erase_if(o.containers, [](const ObservedContainer& c) {
    return c.label(labels::kComposeOneoff) == "True";
  });
  for (const auto& n : engine.list_networks(mine)) o.networks.insert(n.name);
  for (const auto& v : engine.list_volumes(mine)) o.volumes.insert(v.name);
  return o;
}

}  // namespace fleet
