// Commands about what happens to kernels over time: events, checkpoints, restore, autoscale.
#include <atomic>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/render.hpp"

namespace fleet::cli {
namespace {

std::string clock_text(std::int64_t time_nano) {
  std::time_t seconds = static_cast<std::time_t>(time_nano / 1'000'000'000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &tm);
  return text;
}

// One line per event: when, what, which kernel or service, and what the fleet says of it.
std::string event_line(const FleetEvent& e) {
  std::string line = clock_text(e.time_nano) + " " + e.type;
  if (!e.action.empty()) line += " " + e.action;
  if (!e.health.empty()) line += " " + e.health;
  std::string who = !e.kernel_id.empty() ? e.kernel_id
                    : !e.service.empty() ? (e.project.empty() ? "" : e.project + "/") + e.service
                                         : e.container;
  if (!who.empty()) line += " " + who;
  if (e.exit_code) line += " exit " + std::to_string(*e.exit_code) + (e.oom ? " (OOM killed)" : "");
  if (!e.message.empty()) line += ": " + e.message;
  return line;
}

}  // namespace

int cmd_events(Fleet& fleet, bool json) {
  std::mutex out;
  auto print = [&](const FleetEvent& e) {
    std::lock_guard lock(out);
    std::cout << (json ? e.to_json().dump() : event_line(e)) << std::endl;
    return true;
  };
  // The fleet's own events (every fleet process of this home) beside the engine's lifecycle events,
  // until the engine's stream ends (or fails): then the other follower stops too.
  std::atomic<bool> done{false};
  std::thread own([&] {
    try {
      fleet.fleet_events({.cancel = &done}, print);
    } catch (const std::exception& e) {
      std::lock_guard lock(out);
      std::cerr << "llmspell-fleet: events: " << e.what() << "\n";
    }
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& thread;
    ~Join() {
      done = true;
      thread.join();
    }
  } join{done, own};
  fleet.watch({}, print);
  return kExitOk;
}

int cmd_checkpoints(Fleet& fleet, bool json) {
  auto rows = fleet.checkpoints();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) out.push_back(r.to_json());
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (rows.empty()) {
    std::cerr << "no checkpoints (a drain saves one: `llmspell-fleet stop` a kernel)\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> table = {
      {"CHECKPOINT", "KERNEL", "LANGUAGE", "CONFIG", "OWNER", "CREATED", "SKIPPED"}};
  for (const auto& r : rows) {
    std::string skipped;
    for (const auto& s : r.skipped) skipped += (skipped.empty() ? "" : ",") + s;
    table.push_back({r.id, r.kernel_id, r.language, r.config, r.owner.empty() ? "-" : r.owner, r.created,
                     skipped.empty() ? "-" : skipped});
  }
  print_table(table);
  return kExitOk;
}

int cmd_restore(Fleet& fleet, const SpawnOptions& options, bool json) {
  KernelRow k = fleet.spawn(options);
  if (json) {
    std::cout << k.to_json().dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "restored " << options.restore << " into " << k.kernel_id << " (" << k.restored.size()
            << " globals)\n";
  if (!k.connection_file.empty())
    std::cout << "connect: jupyter console --existing " << k.connection_file << "\n";
  return kExitOk;
}

int cmd_autoscale(Fleet& fleet, const std::string& action, std::size_t limit, bool json) {
  if (action == "history") {
    nlohmann::json history = fleet.autoscaling_history(limit);
    if (json) {
      std::cout << history.dump(2) << "\n";
      return kExitOk;
    }
    if (history.empty()) std::cerr << "no scaling decisions yet\n";
    for (const auto& d : history)
      std::cout << d.value("at", std::string()) << " " << d.value("service", std::string()) << " "
                << d.value("summary", std::string())
                << (d.contains("outcome") ? " (" + d["outcome"].get<std::string>() + ")" : "") << "\n";
    return kExitOk;
  }
  nlohmann::json status = action == "status" ? fleet.autoscaling() : fleet.set_autoscaling(action == "start");
  if (json) {
    std::cout << status.dump(2) << "\n";
    return kExitOk;
  }
  const bool running = status.value("running", false);
  std::cout << "autoscaling " << (status.value("enabled", true) ? "enabled" : "stopped")
            << (running ? "" : " (no `llmspell-fleet serve` runs it now: it starts with serve)") << "\n";
  std::vector<std::vector<std::string>> table = {
      {"SERVICE", "REPLICAS", "MIN", "MAX", "DESIRED", "SCALE-UPS", "SCALE-DOWNS", "LAST DECISION"}};
  for (const auto& s : status.value("services", nlohmann::json::array())) {
    auto num = [&s](const char* key) { return s.contains(key) ? s[key].dump() : std::string("-"); };
    std::string last = "-";
    if (s.contains("last_decision") && s["last_decision"].is_object())
      last = s["last_decision"].value("summary", std::string("-"));
    table.push_back({s.value("service", std::string()), num("current_replicas"), num("min_replicas"),
                     num("max_replicas"), num("desired_replicas"), num("scale_up_count"),
                     num("scale_down_count"), last});
  }
  if (table.size() > 1)
    print_table(table);
  else if (running)
    std::cout << "no service of " << status.value("project", std::string("the project"))
              << " opts in (x-fleet: {autoscaling: true})\n";
  return kExitOk;
}

}  // namespace fleet::cli
