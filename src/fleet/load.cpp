// Load samples: stats and the kernel's own status, in parallel (see load.hpp).
#include "fleet/load.hpp"

#include <algorithm>
#include <functional>

#include "engine/errors.hpp"
#include "fleet/connection_files.hpp"
#include "fleet/timestamps.hpp"
#include "util/parallel.hpp"
#include "util/tar.hpp"

namespace fleet {

nlohmann::json KernelLoad::to_json() const {
  nlohmann::json j = {{"id", id}, {"kernel_id", kernel_id}, {"name", name}, {"sampled", sampled}};
  auto put = [&j](const char* key, const auto& value) {
    if (value) j[key] = *value;
  };
  put("cpu_percent", cpu_percent);
  put("cpu_limit_percent", cpu_limit_percent);
  put("memory_percent", memory_percent);
  put("execution_state", execution_state);
  put("pending", pending);
  put("clients", clients);
  j["memory_used"] = memory_used;
  if (!last_activity.empty()) j["last_activity"] = last_activity;
  return j;
}

nlohmann::json kernel_status(engine::Api& engine, const engine::ContainerInspect& container) {
  const std::string path =
      container_env(container, "LLMSPELL_STATE_DIR", "/var/lib/llmspell/state") + "/status.json";
  try {
    for (const auto& entry : util::read_tar(engine.get_archive(container.id, path).tar)) {
      auto j = nlohmann::json::parse(entry.content, nullptr, false);
      if (j.is_object()) return j;
    }
  } catch (const engine::EngineError&) {
  } catch (const std::runtime_error&) {
  }
  return nlohmann::json::object();
}

namespace {

template <typename T>
std::optional<T> field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

void read_status(engine::Api& engine, const ObservedContainer& c, KernelLoad& load, std::int64_t& nano_cpus) {
  try {
    engine::ContainerInspect in = engine.inspect_container(c.id);
    nano_cpus = in.nano_cpus;
    load.started = parse_engine_time(in.state.started_at);
    nlohmann::json status = kernel_status(engine, in);
    load.execution_state = field<std::string>(status, "execution_state");
    load.pending = field<int>(status, "pending");
    load.clients = field<int>(status, "clients");
    load.last_activity = field<std::string>(status, "last_activity").value_or("");
  } catch (const engine::EngineError&) {
    // Gone or stopped meanwhile: no status.
  }
}

void read_stats(engine::Api& engine, const ObservedContainer& c, KernelLoad& load, StatsMemory* memory) {
  try {
    auto previous = memory ? memory->previous(c.id) : std::nullopt;
    engine::StatsSample s = previous ? engine.container_stats_one_shot(c.id) : engine.container_stats(c.id);
    if (memory) memory->remember(c.id, s);
    load.sampled = true;
    load.cpu_percent = previous ? engine::cpu_percent(previous->cpu, s.cpu) : engine::cpu_percent(s);
    load.memory_used = static_cast<std::int64_t>(engine::memory_used(s));
    load.memory_limit = static_cast<std::int64_t>(s.memory_limit);
    if (s.memory_limit > 0) load.memory_percent = engine::memory_percent(s);
  } catch (const engine::EngineError&) {
  }
}

}  // namespace

std::optional<engine::StatsSample> StatsMemory::previous(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = samples_.find(id);
  // An old sample would average over too long a time: a fresh pair is better then.
  if (it == samples_.end() || std::chrono::steady_clock::now() - it->second.at > std::chrono::minutes(5))
    return std::nullopt;
  return it->second.sample;
}

void StatsMemory::remember(const std::string& id, const engine::StatsSample& sample) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(samples_, [&](const auto& e) { return now - e.second.at > std::chrono::minutes(10); });
  samples_[id] = {sample, now};
}

std::vector<KernelLoad> sample_loads(engine::Api& engine, const std::vector<ObservedContainer>& containers,
                                     bool stats, StatsMemory* memory) {
  std::vector<KernelLoad> loads(containers.size());
  std::vector<std::int64_t> nano_cpus(containers.size(), 0);
  std::vector<std::function<void()>> tasks;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    loads[i].id = containers[i].id;
    loads[i].kernel_id = containers[i].kernel_id;
    loads[i].name = containers[i].name;
    tasks.push_back([&, i] { read_status(engine, containers[i], loads[i], nano_cpus[i]); });
    if (stats) tasks.push_back([&, i] { read_stats(engine, containers[i], loads[i], memory); });
  }
  // Stats answers wait for the engine's next collection tick: asked all at once, they all come
  // with the same tick.
  util::run_parallel(tasks, static_cast<unsigned>(std::clamp<std::size_t>(tasks.size(), 1, 64)));
  for (std::size_t i = 0; i < loads.size(); ++i)
    if (loads[i].cpu_percent && nano_cpus[i] > 0)
      loads[i].cpu_limit_percent = *loads[i].cpu_percent / (static_cast<double>(nano_cpus[i]) / 1e9);
  return loads;
}

KernelLoad sample_load(engine::Api& engine, const ObservedContainer& container, bool stats) {
  return sample_loads(engine, {container}, stats).front();
}

}  // namespace fleet
