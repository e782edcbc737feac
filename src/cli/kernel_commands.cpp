// Engine and kernel commands: version, ping, spawn, list, stop, stop-all, cleanup, find, metrics.
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/render.hpp"
#include "server/server.hpp"

namespace fleet::cli {
namespace {

nlohmann::json rows_json(const std::vector<KernelRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& k : rows) out.push_back(k.to_json());
  return out;
}

std::string percent(std::optional<double> value) {
  if (!value) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", *value);
  return buf;
}

std::string port_text(int port) {
  return port ? std::to_string(port) : "-";
}

void print_connect_hint(const KernelRow& k) {
  if (!k.connection_file.empty())
    std::cout << "connect: jupyter console --existing " << k.connection_file << "\n";
}

}  // namespace

int cmd_version(Fleet& fleet, bool json) {
  VersionReport v = fleet.version();
  if (json) {
    std::cout << v.to_json().dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "llmspell-fleet " << v.fleet_version << "\n"
            << "engine:        Docker " << v.engine_version << " (" << v.os << "/" << v.arch << ")\n"
            << "endpoint:      " << v.endpoint << "\n"
            << "engine API:    " << v.engine_api << " (minimum " << v.engine_min_api << ")\n"
            << "API in use:    " << v.api_in_use << "\n";
  return kExitOk;
}

int cmd_ping(Fleet& fleet) {
  PingReport pong = fleet.ping();
  std::cout << "OK " << pong.endpoint << " (API " << pong.api_version << ")\n";
  return kExitOk;
}

int cmd_spawn(Fleet& fleet, const SpawnOptions& options, bool json) {
  KernelRow k = fleet.spawn(options);
  if (json) {
    std::cout << k.to_json().dump(2) << "\n";
    return kExitOk;
  }
  std::cout << k.kernel_id << " (" << k.language << ", " << k.config << ", owner " << k.owner
            << ") serving on 127.0.0.1:" << k.shell_port << "\n";
  print_connect_hint(k);
  return kExitOk;
}

int cmd_list(Fleet& fleet, const ListOptions& options, bool json) {
  auto rows = fleet.list(options);
  if (json) {
    std::cout << rows_json(rows).dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> table;
  if (options.verbose) {
    table.push_back({"KERNEL", "LANGUAGE", "CONFIG", "OWNER", "STATE", "HEALTH", "PORT", "CPU", "MEMORY",
                     "UPTIME", "CLIENTS"});
    for (const auto& k : rows)
      table.push_back(
          {k.kernel_id, k.language, k.config, k.owner, k.state_text(), k.health, port_text(k.shell_port),
           percent(k.cpu_percent),
           k.memory_used ? human_bytes(*k.memory_used) + " / " + human_bytes(k.memory_limit.value_or(0))
                         : std::string("-"),
           human_duration(k.uptime_seconds.value_or(-1)), k.clients ? std::to_string(*k.clients) : "-"});
  } else {
    table.push_back({"KERNEL", "LANGUAGE", "CONFIG", "OWNER", "STATE", "HEALTH", "PORT", "CONNECTION FILE"});
    for (const auto& k : rows)
      table.push_back({k.kernel_id, k.language, k.config, k.owner, k.state_text(), k.health,
                       port_text(k.shell_port), k.connection_file.empty() ? "-" : k.connection_file});
  }
  print_table(table);
  return kExitOk;
}

int cmd_stop(Fleet& fleet, const StopOptions& options, bool json) {
  auto rows = fleet.stop(options);
  if (json)
    std::cout << rows_json(rows).dump(2) << "\n";
  else
    for (const auto& k : rows) {
      std::cout << "stopped " << k.kernel_id;
      if (k.drain && k.drain->timed_out) std::cout << " (E2093: still busy after the drain timeout)";
      if (k.drain && !k.drain->checkpoint.empty()) std::cout << ", checkpoint " << k.drain->checkpoint;
      std::cout << "\n";
    }
  return kExitOk;
}

int cmd_stop_all(Fleet& fleet, const StopAllOptions& options, bool json) {
  auto rows = fleet.stop_all(options);
  if (json)
    std::cout << rows_json(rows).dump(2) << "\n";
  else if (rows.empty())
    std::cerr << "no spawned kernels"
              << (options.scope.all_owners      ? ""
                  : options.scope.owner.empty() ? " of yours"
                                                : " of " + options.scope.owner)
              << " to stop\n";
  else
    for (const auto& k : rows) std::cout << "stopped " << k.kernel_id << "\n";
  return kExitOk;
}

int cmd_cleanup(Fleet& fleet, const OwnerScope& scope, bool json) {
  CleanupReport r = fleet.cleanup(scope);
  if (json) {
    std::cout << r.to_json().dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& k : r.removed) std::cout << "removed " << k << "\n";
  for (const auto& f : r.connection_files) std::cout << "removed stale connection file " << f << "\n";
  std::cerr << r.removed.size() << " dead kernel(s), " << r.connection_files.size()
            << " stale connection file(s), " << r.registry_entries_dropped
            << " registry entries without a container\n";
  return kExitOk;
}

int cmd_find(Fleet& fleet, const FindOptions& options, bool json) {
  FindReport r = fleet.find(options);
  if (json) {
    std::cout << r.to_json().dump(2) << "\n";
    return kExitOk;
  }
  std::cout << (r.created ? "spawned " : "found ") << r.kernel.kernel_id << " (" << r.kernel.language << ", "
            << r.kernel.config << ", owner " << r.kernel.owner << ") on 127.0.0.1:" << r.kernel.shell_port
            << "\n";
  print_connect_hint(r.kernel);
  return kExitOk;
}

int cmd_metrics(Fleet& fleet, bool json) {
  MetricsReport r = fleet.metrics();
  if (json) {
    std::cout << r.to_json().dump(2) << "\n";
    return kExitOk;
  }
  std::string states;
  int total = 0;
  for (const auto& [state, count] : r.kernels_by_state) {
    states += (states.empty() ? "" : ", ") + std::to_string(count) + " " + state;
    total += count;
  }
  std::printf("kernels: %d%s\n\n", total, states.empty() ? "" : (" (" + states + ")").c_str());
  std::vector<std::vector<std::string>> table = {{"KERNEL", "STATE", "CPU", "MEMORY", "MEMORY%"}};
  for (const auto& k : r.kernels)
    table.push_back({k.kernel_id, k.state, percent(k.cpu_percent),
                     human_bytes(k.memory_used) + " / " + human_bytes(k.memory_limit),
                     percent(k.memory_percent)});
  table.push_back({"TOTAL", "", percent(r.total_cpu_percent),
                   human_bytes(r.total_memory_used) + " / " + human_bytes(r.total_memory_limit), ""});
  print_table(table);
  return kExitOk;
}

int cmd_serve(server::ServerOptions& o, const std::string& token_file) {
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) throw UsageError("--token-file " + token_file + " cannot be read");
    std::getline(in, o.token);
    if (o.token.empty()) throw UsageError("--token-file " + token_file + " holds no token on its first line");
  } else if (const char* env = std::getenv("LLMSPELL_FLEET_TOKEN"); o.token.empty() && env && *env) {
    o.token = env;  // how a container gets it (the manager service)
  }
  while (!o.token.empty() && std::isspace(static_cast<unsigned char>(o.token.back()))) o.token.pop_back();
  if (!o.token.empty() && o.token.size() < 16) throw UsageError("the token must be at least 16 characters");
  return server::serve(o);
}

}  // namespace fleet::cli
