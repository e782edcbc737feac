// watch: the engine's event stream for the fleet's containers, as fleet events; registry.json kept
// current as they come (refreshes coalesced on a thread of their own, so a burst of thirty spawns
// costs a few rewrites, not ninety).
#include <condition_variable>
#include <mutex>
#include <thread>

#include "fleet/labels.hpp"
#include "fleet/operations.hpp"

namespace fleet {
namespace {

std::string attribute(const engine::Event& e, const char* key) {
  auto it = e.attributes.find(key);
  return it == e.attributes.end() ? std::string() : it->second;
}

// The engine's action as the fleet's event type; empty for what the fleet does not report
// (exec_* of healthchecks, attach, resize...).
std::string type_of(const std::string& action) {
  if (action == "create") return "created";
  if (action == "start") return "started";
  if (action == "pause") return "paused";
  if (action == "unpause") return "unpaused";
  if (action == "die") return "died";
  if (action == "destroy") return "removed";
  if (action.rfind("health_status", 0) == 0) return "health";
  return "";
}

}  // namespace

void watch(Context& ctx, const WatchOptions& options, const EventSink& sink) {
  std::mutex mu;
  std::condition_variable wake;
  bool dirty = true, done = false;  // dirty at first: catching up after a gap starts with a refresh
  std::thread refresher([&] {
    std::unique_lock lock(mu);
    while (true) {
      wake.wait(lock, [&] { return dirty || done; });
      if (!dirty) return;
      dirty = false;
      lock.unlock();
      refresh_registry_after_change(ctx);
      ctx.time().sleep_for(std::chrono::milliseconds(100));  // what arrives meanwhile: one refresh
      lock.lock();
    }
  });
  auto stop_refresher = [&] {
    {
      std::lock_guard lock(mu);
      done = true;
    }
    wake.notify_one();
    refresher.join();
  };

  std::map<std::string, bool> oom_killed;  // an "oom" event comes before the container's "die"
  engine::EventsOptions o{
      .filters = {{"type", {"container"}}, {"label", {std::string(labels::kManaged) + "=true"}}},
      .cancel = options.cancel};
  if (options.since_nano) o.since = *options.since_nano / 1'000'000'000;
  try {
    ctx.client.events(o, [&](const engine::Event& e) {
      if (options.since_nano && e.time_nano <= *options.since_nano) return true;  // seen before the gap
      if (e.action == "oom") {
        oom_killed[e.actor_id] = true;
        return true;
      }
      FleetEvent f{.type = type_of(e.action)};
      if (f.type.empty()) return true;
      f.container = attribute(e, "name");
      f.container_id = e.actor_id;
      f.kernel_id = attribute(e, labels::kKernelId);
      f.origin = attribute(e, labels::kOrigin);
      if (f.origin == "compose") {
        f.project = attribute(e, labels::kComposeProject);
        f.service = attribute(e, labels::kComposeService);
      }
      f.owner = attribute(e, labels::kOwner);
      f.time_nano = e.time_nano;
      if (f.type == "died") {
        try {
          f.exit_code = std::stoi(attribute(e, "exitCode"));
        } catch (const std::exception&) {
        }
        f.oom = oom_killed[e.actor_id];
        oom_killed.erase(e.actor_id);
      } else if (f.type == "health") {
        auto colon = e.action.find(':');
        f.health = colon == std::string::npos ? "" : e.action.substr(colon + 2);
      }
      {
        std::lock_guard lock(mu);
        dirty = true;
      }
      wake.notify_one();
      return sink(f);
    });
  } catch (...) {
    stop_refresher();
    throw;
  }
  stop_refresher();
}

}  // namespace fleet
