#include "fleet/plan.hpp"

#include <algorithm>
#include <functional>

#include "fleet/container_spec.hpp"
#include "fleet/labels.hpp"

namespace fleet {
namespace {

const char* action_name(Step::Action a) {
  switch (a) {
    case Step::Action::CreateNetwork:
      return "create network";
    case Step::Action::CreateVolume:
      return "create volume";
    case Step::Action::CreateContainer:
      return "create container";
    case Step::Action::StartContainer:
      return "start container";
    case Step::Action::RenameContainer:
      return "rename container";
    case Step::Action::RecreateContainer:
      return "recreate container";
    case Step::Action::PauseContainer:
      return "pause container";
    case Step::Action::UnpauseContainer:
      return "unpause container";
    case Step::Action::RemoveContainer:
      return "remove container";
  }
  return "?";
}

bool running(const ObservedContainer& c) {
  return c.state == "running" || c.state == "paused" || c.state == "restarting";
}

}  // namespace

std::string Step::str() const {
  std::string out = std::string(action_name(action)) + " " + target;
  if (!cause.empty()) out += " (" + cause + ")";
  return out;
}

bool Plan::empty() const {
  if (!setup.empty()) return false;
  for (const auto& [service, list] : steps)
    if (!list.empty()) return false;
  return true;
}

std::string Plan::str() const {
  std::string out;
  for (const auto& s : setup) out += s.str() + "\n";
  for (const auto& level : levels)
    for (const auto& service : level)
      if (auto it = steps.find(service); it != steps.end())
        for (const auto& s : it->second) out += s.str() + "\n";
  return out;
}

Plan plan_up(const compose::Project& project, const compose::Selection& selection, const Observed& observed,
             const UpRequest& request) {
  Plan plan;
  std::set<std::string> targeted(selection.targeted.begin(), selection.targeted.end());

  // Networks and volumes the targeted services use.
  std::set<std::string> networks, volumes;
  for (const auto& name : selection.targeted) {
    const auto& s = project.services.at(name);
    for (const auto& [key, attachment] : s.networks) {
      const auto& n = project.networks.at(key);
      if (!n.external && !observed.networks.count(n.name) && networks.insert(n.name).second)
        plan.setup.push_back({Step::Action::CreateNetwork, "", 0, n.name, "", "used by " + name});
    }
    for (const auto& v : s.volumes)
      if (v.type == "volume" && !v.source.empty()) {
        const auto& def = project.volumes.at(v.source);
        if (!def.external && !observed.volumes.count(def.name) && volumes.insert(def.name).second)
          plan.setup.push_back({Step::Action::CreateVolume, "", 0, def.name, "", "used by " + name});
      }
  }

  // Levels: a service comes after everything it depends on.
  std::map<std::string, int> level;
  std::function<int(const std::string&)> level_of = [&](const std::string& name) -> int {
    if (auto it = level.find(name); it != level.end()) return it->second;
    int l = 0;
    for (const auto& dep : selection.dependencies.at(name))
      if (targeted.count(dep)) l = std::max(l, level_of(dep) + 1);
    return level[name] = l;
  };
  for (const auto& name : selection.targeted) {
    std::size_t l = static_cast<std::size_t>(level_of(name));
    if (plan.levels.size() <= l) plan.levels.resize(l + 1);
    plan.levels[l].push_back(name);
  }

  for (const auto& name : selection.targeted) {
    const compose::Service& s = project.services.at(name);
    const std::string hash = compose::config_hash(s);
    const std::string image = request.image_ids.count(name) ? request.image_ids.at(name) : std::string();
    auto& steps = plan.steps[name];
    // Warm-pool members of the service (service_pool.hpp) are not replicas: neither counted nor
    // touched here, but their numbers are taken.
    std::vector<ObservedContainer> mine;
    int highest = 0;
    for (const auto& c : observed.containers)
      if (c.service == name) {
        highest = std::max(highest, c.number);
        if (!c.pool_ready() && !c.pool_filling()) mine.push_back(c);
      }

    auto current = [&](const ObservedContainer& c) {
      return c.config_hash == hash && (image.empty() || c.image_id.empty() || c.image_id == image);
    };
    // One container per number: an interrupted run may have left two (a recreate cut short, say).
    // Keep the current one, then the running one, then the newest; remove the others.
    std::map<int, std::vector<ObservedContainer>> by_number;
    for (const auto& c : mine) by_number[c.number].push_back(c);
    std::vector<ObservedContainer> kept;
    for (auto& [number, group] : by_number) {
      std::sort(group.begin(), group.end(), [&](const auto& a, const auto& b) {
        auto rank = [&](const ObservedContainer& c) {
          return std::make_tuple(current(c), running(c), c.created);
        };
        return rank(a) > rank(b);
      });
      kept.push_back(group.front());
      for (std::size_t i = 1; i < group.size(); ++i)
        steps.push_back({Step::Action::RemoveContainer, name, number, group[i].name, group[i].id,
                         "duplicate of replica " + std::to_string(number), group[i].state,
                         group[i].kernel_id});
    }

    const bool exact = request.replicas.count(name) > 0;
    const int desired =
        exact ? request.replicas.at(name) : std::max(s.replica_count(), static_cast<int>(kept.size()));
    // Scale down: obsolete containers first, then the highest numbers; low numbers stay.
    std::sort(kept.begin(), kept.end(), [&](const auto& a, const auto& b) {
      if (current(a) != current(b)) return !current(a);
      return a.number > b.number;
    });
    int surplus = static_cast<int>(kept.size()) - desired;
    for (int i = 0; i < surplus; ++i) {
      const auto& c = kept[static_cast<std::size_t>(i)];
      steps.push_back({Step::Action::RemoveContainer, name, c.number, c.name, c.id,
                       "scale " + name + " to " + std::to_string(desired), c.state, c.kernel_id});
    }
    if (surplus > 0) kept.erase(kept.begin(), kept.begin() + surplus);
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.number < b.number; });

    for (const auto& c : kept) {
      std::string expected = container_name(project, s, c.number);
      if (!current(c)) {
        steps.push_back({Step::Action::RecreateContainer, name, c.number, expected, c.id,
                         c.config_hash != hash ? "configuration changed" : "image changed", c.state,
                         c.kernel_id});
        continue;
      }
      if (c.name != expected)
        steps.push_back({Step::Action::RenameContainer, name, c.number, expected, c.id, "was " + c.name});
      if (c.state == "created" || c.state == "exited" || c.state == "dead")
        steps.push_back({Step::Action::StartContainer, name, c.number, expected, c.id, "was " + c.state,
                         c.state, c.kernel_id});
    }
    for (int missing = desired - static_cast<int>(kept.size()), k = 1; k <= missing; ++k) {
      int number = highest + k;
      steps.push_back({Step::Action::CreateContainer, name, number, container_name(project, s, number), "",
                       name + " has " + std::to_string(static_cast<int>(kept.size()) + k - 1) + " of " +
                           std::to_string(desired)});
    }
  }
  return plan;
}

Plan plan_spawn(const SpawnRequest& r) {
  Plan plan;
  plan.levels.push_back({r.service});
  Step create{Step::Action::CreateContainer,
              r.service,
              0,
              r.name.empty() ? "llmspell-" + r.kernel_id : r.name,
              "",
              r.cause};
  create.kernel_id = r.kernel_id;
  create.host_port = r.host_port;
  plan.steps[r.service].push_back(create);
  return plan;
}

Plan plan_retire(const std::vector<ObservedContainer>& containers, const std::string& cause,
                 std::optional<int> timeout) {
  Plan plan;
  std::set<std::string> services;
  for (const auto& c : containers) {
    Step step{Step::Action::RemoveContainer, c.service, c.number, c.name, c.id, cause, c.state, c.kernel_id};
    step.stop_timeout = timeout;
    plan.steps[c.service].push_back(step);
    if (services.insert(c.service).second) {
      if (plan.levels.empty()) plan.levels.emplace_back();
      plan.levels.front().push_back(c.service);
    }
  }
  return plan;
}

Plan plan_pause(const std::vector<ObservedContainer>& containers, bool pause, const std::string& cause) {
  Plan plan;
  std::set<std::string> services;
  for (const auto& c : containers) {
    if (pause ? c.state != "running" : c.state != "paused") continue;
    plan.steps[c.service].push_back({pause ? Step::Action::PauseContainer : Step::Action::UnpauseContainer,
                                     c.service, c.number, c.name, c.id, cause, c.state, c.kernel_id});
    if (services.insert(c.service).second) {
      if (plan.levels.empty()) plan.levels.emplace_back();
      plan.levels.front().push_back(c.service);
    }
  }
  return plan;
}

}  // namespace fleet
