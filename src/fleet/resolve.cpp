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

// What a name says exactly: a kernel's id or a container's name.
bool exact(const ObservedContainer& c, const std::string& name) {
  return c.name == name || (c.kernel() && c.kernel_id == name);
}

// What a name may stand for: a prefix of a container id, or a published host port.
bool loose(const ObservedContainer& c, const std::string& name) {
  if (name.size() >= 6 && c.id.rfind(name, 0) == 0) return true;
  if (!all_digits(name)) return false;
  int port = std::stoi(name);
  return port > 0 && std::any_of(c.ports.begin(), c.ports.end(),
                                 [&](const engine::PortBinding& p) { return p.public_port == port; });
}

std::string names_of(const std::vector<const ObservedContainer*>& found) {
  std::string out;
  for (const auto* c : found) out += (out.empty() ? "" : ", ") + (c->kernel() ? c->kernel_id : c->name);
  return out;
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
    // An exact id or name wins; a prefix or a port must point at one container only, or nothing is
    // done (stopping two kernels for one name would be a surprise).
    std::vector<const ObservedContainer*> found;
    for (const auto& c : candidates)
      if (exact(c, name)) found.push_back(&c);
    if (found.empty())
      for (const auto& c : candidates)
        if (loose(c, name)) found.push_back(&c);
    if (found.size() > 1)
      throw InvalidInput("\"" + name + "\" names " + std::to_string(found.size()) + " containers (" +
                         names_of(found) + "): name one of them by its id");
    if (found.size() == 1) {
      add(*found.front());
    } else if (project && what == Resolve::Anything && project->services.count(name)) {
      // A service: all its replicas; one with none right now is not an error.
      for (const auto& c : candidates)
        if (c.project == project->name && c.service == name) add(c);
    } else {
      unknown.push_back(name);
    }
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
    throw NotFound(std::string(what == Resolve::KernelsOnly ? "no such kernel: "
                                                            : "no such kernel, service or container: ") +
                   list + " (see `llmspell-fleet list`" + (what == Resolve::Anything ? " and `ps`)" : ")"));
  }
  return out;
}

}  // namespace fleet
