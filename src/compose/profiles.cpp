#include "compose/profiles.hpp"

#include "compose/error.hpp"

#include <algorithm>
#include <functional>

namespace fleet::compose {

bool service_enabled(const Service& service, const std::set<std::string>& active) {
  if (service.profiles.empty() || active.count("*")) return true;
  return std::any_of(service.profiles.begin(), service.profiles.end(),
                     [&](const auto& p) { return active.count(p); });
}

std::vector<std::string> implicit_dependencies(const Service& s) {
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    if (!name.empty() && name != s.name && std::find(out.begin(), out.end(), name) == out.end())
      out.push_back(name);
  };
  for (const auto& link : s.links) add(link.substr(0, link.find(':')));
  for (const auto& from : s.volumes_from)
    if (from.rfind("container:", 0) != 0) add(from.substr(0, from.find(':')));
  for (const auto* mode : {&s.network_mode, &s.pid, &s.ipc})
    if (mode->rfind("service:", 0) == 0) add(mode->substr(8));
  return out;
}

Selection select_services(const Project& project, const SelectionRequest& request) {
  Selection sel;
  const auto profiles = project.all_profiles();
  auto is_profile = [&](const std::string& n) {
    return std::find(profiles.begin(), profiles.end(), n) != profiles.end();
  };

  // Rule 3: flags, else COMPOSE_PROFILES.
  const auto& base = request.profile_flags.empty() ? project.env_profiles : request.profile_flags;
  sel.active_profiles.insert(base.begin(), base.end());

  std::vector<std::string> named_services;
  for (const auto& name : request.names) {
    bool service = project.services.count(name) > 0;
    bool profile = request.names_may_be_profiles && is_profile(name);
    if (service && profile)
      throw SelectionError("\"" + name + "\" is both a service and a profile: use --profile " + name +
                           " for the profile");
    if (!service && !profile) throw SelectionError("no such service or profile: " + name);
    if (profile) {
      sel.active_profiles.insert(name);
    } else {
      named_services.push_back(name);
      // Rule 4: naming a service activates its profiles.
      const auto& p = project.services.at(name).profiles;
      sel.active_profiles.insert(p.begin(), p.end());
    }
  }

  // Dependency order over enabled services; rule 5 checked on the way. The loader refused cycles of
  // depends_on; one that goes through an implicit dependency is refused here.
  std::set<std::string> done;
  std::vector<std::string> path_now;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    if (auto on_path = std::find(path_now.begin(), path_now.end(), name); on_path != path_now.end()) {
      std::string cycle;
      for (auto it = on_path; it != path_now.end(); ++it) cycle += *it + " -> ";
      std::string path = "services." + path_now.back();
      throw ComposeError(project.source_name, project.line_of(path), path,
                         "dependency cycle: " + cycle + name);
    }
    if (done.count(name)) return;
    path_now.push_back(name);
    const Service& s = project.services.at(name);
    std::vector<std::pair<std::string, bool>> wanted;  // dependency, required
    for (const auto& [dep, d] : s.depends_on) wanted.emplace_back(dep, d.required);
    for (const auto& dep : implicit_dependencies(s))
      if (!s.depends_on.count(dep)) wanted.emplace_back(dep, true);
    std::vector<std::string> kept;
    for (const auto& [dep, required] : wanted) {
      auto it = project.services.find(dep);
      if (it == project.services.end()) {
        std::string path = "services." + name;
        throw ComposeError(project.source_name, project.line_of(path), path,
                           "service \"" + name + "\" refers to undefined service \"" + dep + "\"");
      }
      const Service& target = it->second;
      if (!service_enabled(target, sel.active_profiles)) {
        if (!required) continue;
        std::string enablers;
        for (const auto& p : target.profiles) enablers += (enablers.empty() ? "" : " ") + p;
        std::string path = "services." + name + (s.depends_on.count(dep) ? ".depends_on" : "");
        throw ComposeError(project.source_name, project.line_of(path), path,
                           "service \"" + dep + "\" is required by \"" + name +
                               "\" but is disabled. Can be enabled by profiles [" + enablers + "]");
      }
      kept.push_back(dep);
      visit(dep);
    }
    path_now.pop_back();
    done.insert(name);
    sel.dependencies[name] = kept;
    sel.enabled.push_back(name);
  };
  for (const auto& [name, s] : project.services)
    if (service_enabled(s, sel.active_profiles)) visit(name);

  if (named_services.empty()) {
    sel.targeted = sel.enabled;
    return sel;
  }
  // Rule 4, second half: the named services and what they depend on.
  std::set<std::string> wanted;
  std::function<void(const std::string&)> want = [&](const std::string& name) {
    if (!wanted.insert(name).second) return;
    for (const auto& dep : sel.dependencies[name]) want(dep);
  };
  for (const auto& n : named_services) want(n);
  for (const auto& name : sel.enabled)
    if (wanted.count(name)) sel.targeted.push_back(name);
  return sel;
}

}  // namespace fleet::compose
