// Operations on a compose project (the docker-fleet commands): one function per operation, each
// in its own file. The CLI and the REST service call these and only render what they return.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compose/model.hpp"
#include "compose/profiles.hpp"
#include "engine/client.hpp"
#include "fleet/plan.hpp"

namespace fleet {

// A line of progress: "Container llmspell-kernel-lua-openai-1" "Started".
struct ProgressEvent {
  enum class Kind { Working, Done, Failed };
  std::string object;
  std::string status;
  Kind kind = Kind::Working;
};
using ProgressSink = std::function<void(const ProgressEvent&)>;

struct ProjectContext {
  engine::Client& client;
  const compose::Project& project;
  ProgressSink progress = [](const ProgressEvent&) {};
  unsigned parallel = 4;
};

// --- up / scale
struct UpOptions {
  compose::SelectionRequest selection;
  std::map<std::string, int> replicas;  // scale overrides
  bool wait = false;
  std::chrono::seconds wait_timeout{120};
};
struct UpResult {
  compose::Selection selection;
  Plan plan;
};
UpResult up(ProjectContext& ctx, const UpOptions& options);
// `scale SERVICE N`: converges the named services to their counts (their dependencies come up too).
UpResult scale(ProjectContext& ctx, const std::map<std::string, int>& replicas, bool wait,
               std::chrono::seconds wait_timeout);

// --- down
struct DownOptions {
  bool volumes = false;
  std::optional<int> timeout;  // seconds; else each container's own stop timeout
};
struct DownResult {
  int containers = 0, networks = 0, volumes = 0;
};
DownResult down(ProjectContext& ctx, const DownOptions& options);

// --- build
std::vector<std::string> build(ProjectContext& ctx, const compose::SelectionRequest& selection,
                               bool no_cache);

// --- ps
struct PsRow {
  std::string name, service, state, health, ports;
  int number = 0;
  std::int64_t memory = 0;           // bytes, 0 = unlimited
  double cpus = 0;                   // 0 = unlimited
  std::int64_t uptime_seconds = -1;  // -1 when not running
  std::string id;
};
std::vector<PsRow> ps(ProjectContext& ctx, bool all);

// --- health
struct PortProbe {
  std::string host_ip;
  int host_port = 0;
  int container_port = 0;
  bool ok = false;
  std::string error;
};
struct HealthRow {
  std::string name, service, state, health;  // health: healthy, unhealthy, starting, none
  std::vector<PortProbe> probes;
  bool ok = false;  // running, healthy (or no healthcheck), every port answered
};
std::vector<HealthRow> health(ProjectContext& ctx, const std::vector<std::string>& names);

// --- logs
struct LogsRequest {
  std::vector<std::string> names;  // services or container names; empty: all
  bool follow = false;
  std::optional<int> tail;
  std::optional<std::int64_t> since;
  bool timestamps = false;
  const engine::CancelFlag* cancel = nullptr;
};
// Whole lines, each with its container; called from several threads, never at once.
using LogSink =
    std::function<void(const std::string& container, engine::StreamId stream, std::string_view line)>;
void logs(ProjectContext& ctx, const LogsRequest& request, const LogSink& sink);

// --- shell
struct ShellRequest {
  std::string service;
  int index = 1;
  std::vector<std::string> command;  // empty: an interactive shell
  bool tty = false;
  int stdin_fd = -1;           // -1: no input
  std::function<void()> tick;  // called while attached (resize checks)
};
// Returns the command's exit code.
int shell(ProjectContext& ctx, const ShellRequest& request, const engine::OutputSink& output,
          std::function<void(const std::string& exec_id)> on_started = nullptr);

// --- clean
struct CleanResult {
  DownResult down;
  int images = 0;
  int test_leftovers = 0;
};
CleanResult clean(ProjectContext& ctx);

// Containers of the project (all states), from their labels.
std::vector<engine::ContainerSummary> project_containers(engine::Client& client, const std::string& project,
                                                         bool all = true);
// The project's containers matching service or container names (all when empty); unknown names
// are an InvalidInput.
std::vector<engine::ContainerSummary> select_containers(ProjectContext& ctx,
                                                        const std::vector<std::string>& names, bool all);

// Where the project's host connection files and registry.json live.
std::filesystem::path connection_dir(const compose::Project& project);
// Rewrites registry.json from the engine's current state, and removes connection files of
// containers that are gone.
void refresh_registry(engine::Client& client, const compose::Project& project);

}  // namespace fleet
