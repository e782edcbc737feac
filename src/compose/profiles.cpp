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

  // Dependency order over enabled services; rule 5 checked on the way.
  std::set<std::string> done;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    if (done.count(name)) return;
    done.insert(name);
    const Service& s = project.services.at(name);
    std::vector<std::string> kept;
    for (const auto& [dep, d] : s.depends_on) {
      const Service& target = project.services.at(dep);
      if (!service_enabled(target, sel.active_profiles)) {
        if (!d.required) continue;
        std::string enablers;
        for (const auto& p : target.profiles) enablers += (enablers.empty() ? "" : " ") + p;
        std::string path = "services." + name + ".depends_on";
        throw ComposeError(project.source_name, project.line_of(path), path,
                           "service \"" + dep + "\" is required by \"" + name +
                               "\" but is disabled. Can be enabled by profiles [" + enablers + "]");
      }
      kept.push_back(dep);
      visit(dep);
    }
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
