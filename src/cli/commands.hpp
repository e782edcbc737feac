// The command handlers: each takes what CLI11 parsed, calls one fleet operation through the door and
// renders its result. No decisions are made here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fleet/fleet.hpp"
#include "server/server.hpp"

namespace fleet::cli {

// engine
int cmd_version(Fleet& fleet, bool json);
int cmd_ping(Fleet& fleet);

// compose project (the docker-fleet commands)
int cmd_config(Fleet& fleet, const ConfigOptions& options, bool json);
int cmd_build(Fleet& fleet, const BuildOptions& options);
int cmd_up(Fleet& fleet, UpOptions options, const std::vector<std::string>& scale);
int cmd_scale(Fleet& fleet, const std::vector<std::string>& args, bool wait);
int cmd_down(Fleet& fleet, const DownOptions& options);
int cmd_ps(Fleet& fleet, bool all, bool json);
int cmd_clean(Fleet& fleet);
int cmd_nodes(Fleet& fleet, bool json);
int cmd_drain_node(Fleet& fleet, const std::string& node, int timeout_seconds, bool json);
int cmd_activate_node(Fleet& fleet, const std::string& node);

// any container: kernels, services, containers
int cmd_health(Fleet& fleet, const std::vector<std::string>& names, bool json);
int cmd_logs(Fleet& fleet, const LogsOptions& options);
int cmd_shell(Fleet& fleet, std::vector<std::string> args, int index);

// kernels
int cmd_spawn(Fleet& fleet, const SpawnOptions& options, bool json);
int cmd_list(Fleet& fleet, const ListOptions& options, bool json);
int cmd_stop(Fleet& fleet, const StopOptions& options, bool json);
int cmd_stop_all(Fleet& fleet, const StopAllOptions& options, bool json);
int cmd_cleanup(Fleet& fleet, const OwnerScope& scope, bool json);
int cmd_find(Fleet& fleet, const FindOptions& options, bool json);
int cmd_metrics(Fleet& fleet, bool json);

// --- live (top_command.cpp)
struct TopArgs {
  double interval = 2;  // seconds between refreshes
  bool once = false;    // --no-stream: one block, then exit
};
int cmd_top(Fleet& fleet, const TopArgs& args);

// --- over time (lifecycle_commands.cpp)
int cmd_events(Fleet& fleet, bool json);
int cmd_checkpoints(Fleet& fleet, bool json);
int cmd_restore(Fleet& fleet, const SpawnOptions& options, bool json);
// status, history, start or stop.
int cmd_autoscale(Fleet& fleet, const std::string& action, std::size_t limit, bool json);

// Jupyter (jupyter_commands.cpp)
int cmd_kernel_launch(Fleet& fleet, LaunchOptions options);
int cmd_kernelspec_install(Fleet& fleet, KernelspecOptions options, bool json);

// the fleet over HTTP
int cmd_serve(server::ServerOptions& options, const std::string& token_file);

}  // namespace fleet::cli
