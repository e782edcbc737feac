// Names on the command line (or in a URL) to containers: a kernel by its id, its container's name,
// a prefix of its container id, or one of its published host ports; with a project, also a compose
// service (all its replicas) or one of its containers by name. All names are checked first.
#include <algorithm>

#include "fleet/errors.hpp"
#include "fleet/operations.hpp"

namespace fleet {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 5 && std::all_of(s.begin(), s.end(), ::isdigit);
}

bool matches(const ObservedContainer& c, const std::string& name) {
  if (c.name == name || (c.kernel() && c.kernel_id == name)) return true;
  if (name.size() >= 6 && c.id.rfind(name, 0) == 0) return true;
  if (all_digits(name)) {
    int port = std::stoi(name);
    return port > 0 && std::any_of(c.ports.begin(), c.ports.end(),
                                   [&](const engine::PortBinding& p) { return p.public_port == port; });
  }
  return false;
}

}  // namespace

std::vector<ObservedContainer> resolve(Context& ctx, const compose::Project* project,
                                       const std::vector<std::string>& names, Resolve what) {
  std::vector<ObservedContainer> candidates = observe_kernels(ctx.client).containers;
  if (project && what == Resolve::Anything)
    for (auto& c : observe_project(ctx.client, project->name).containers)
      if (std::none_of(candidates.begin(), candidates.end(), [&](const auto& k) { return k.id == c.id; }))
        candidates.push_back(std::move(c));

  std::vector<ObservedContainer> out;
  std::vector<std::string> unknown;
  auto add = [&](const ObservedContainer& c) {
    if (std::none_of(out.begin(), out.end(), [&](const auto& o) { return o.id == c.id; })) out.push_back(c);
  };
  for (const auto& name : names) {
    bool found = false;
    for (const auto& c : candidates)
      if (matches(c, name)) add(c), found = true;
    if (!found && project && what == Resolve::Anything && project->services.count(name)) {
      for (const auto& c : candidates)
        if (c.project == project->name && c.service == name) add(c);
      found = true;  // a service with no container right now is not an error
    }
    if (!found) unknown.push_back(name);
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
    throw NotFound(std::string(what == Resolve::KernelsOnly ? "no such kernel: " : "no such kernel, service or container: ") +
                   list + " (see `llmspell-fleet list`" + (what == Resolve::Anything ? " and `ps`)" : ")"));
  }
  return out;
}

}  // namespace fleet
