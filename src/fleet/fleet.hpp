// The fleet's one door. The command line and the REST service call these operations and render
// what they return; they make no decisions of their own. Every operation fails with a fleet::Error
// (errors.hpp), whatever failed underneath. The engine is reached lazily, and the compose file is
// read only by operations that need it, so kernel commands work anywhere.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "fleet/errors.hpp"
#include "fleet/rows.hpp"

namespace fleet {
namespace engine {
class Api;
}
namespace util {
class Clock;
}
class PoolService;
class AutoscaleService;
class StatsMemory;

struct FleetOptions {
  // An engine connection shared by several doors (a server makes one per request): from
  // Fleet::connect. Empty: the door connects on first use.
  std::shared_ptr<engine::Api> engine;
  // Warm pools kept by a long-running fleet (Fleet::start_pools); without them, spawn still takes
  // a ready member another fleet made, straight from the engine.
  std::shared_ptr<PoolService> pools;
  // A long-running fleet's previous stats samples (Fleet::stats_memory): metrics then take ~1 s.
  std::shared_ptr<StatsMemory> stats;
  std::string docker_host;                                  // empty: DOCKER_HOST, else the default socket
  std::string compose_file = "compose/docker-compose.yml";  // -f
  std::string project_name;                                 // -p
  std::vector<std::string> profiles;                        // --profile
  // --backend: "local" (this engine's containers) or "swarm" (services of the swarm this engine
  // manages); empty: the compose file's top-level x-fleet.backend, else local.
  std::string backend;
  ProgressSink progress = [](const ProgressEvent&) {};
  util::Clock* clock = nullptr;  // what waits and retries sleep on; the system clock when null
};

class Fleet {
 public:
  explicit Fleet(FleetOptions options);
  // On an engine of the caller's (tests drive the door with a fake engine); docker_host is unused.
  Fleet(FleetOptions options, engine::Api& engine);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // A connection to the engine at `docker_host` (empty: DOCKER_HOST, else the default socket), to
  // share through FleetOptions::engine. Thread-safe: calls may come from many threads at once.
  static std::shared_ptr<engine::Api> connect(const std::string& docker_host);
  // Starts keeping the warm pools of fleet.toml's templates filled (a thread of their own), rebuilt
  // from what the engine has; `labels` go on every member, `events` hears every pool change. Share
  // the result through FleetOptions::pools. Stopped when the last holder lets go.
  static std::shared_ptr<PoolService> start_pools(const FleetOptions& options,
                                                  const std::vector<std::string>& labels, EventSink events);

  static std::shared_ptr<StatsMemory> stats_memory();
  // Starts the autoscaler of the compose project's services that opt in (x-fleet: {autoscaling:
  // true}); nothing when there is no compose file. Stopped when the last holder lets go.
  static std::shared_ptr<AutoscaleService> start_autoscaler(const FleetOptions& options);

  // --- the engine
  VersionReport version();
  PingReport ping();

  // --- the compose project (the docker-fleet commands)
  ConfigReport config(const ConfigOptions& options);
  BuildReport build(const BuildOptions& options);
  UpReport up(const UpOptions& options);
  UpReport scale(const ScaleOptions& options);
  DownReport down(const DownOptions& options);
  std::vector<PsRow> ps(bool all);
  // The swarm's nodes: state, availability, the fleet's tasks and kernels, use through each node's
  // own engine (settings: [swarm] nodes).
  std::vector<NodeRow> nodes();
  // Moves every kernel off a swarm node with its state (checkpoint, drain, restore elsewhere,
  // connection files rewritten), leaving the node drained; `activate_node` takes it back.
  std::vector<NodeDrainRow> drain_node(const std::string& node, std::chrono::seconds timeout);
  void activate_node(const std::string& node);
  CleanReport clean();
  // The project's services: what the file asks for, what runs.
  std::vector<ServiceRow> services();

  // --- any container of the fleet: kernels by id, name or host port; services and containers of
  // the compose project by name
  std::vector<HealthRow> health(const std::vector<std::string>& names);
  void logs(const LogsOptions& options, const LineSink& sink);
  // Returns the command's exit code.
  int shell(const ShellOptions& options, const OutputSink& output);
  void resize_shell(const std::string& session, int rows, int columns);

  // --- kernels
  KernelRow spawn(const SpawnOptions& options);
  std::vector<KernelRow> list(const ListOptions& options);
  // One kernel, by id, container name or host port (NotFound otherwise).
  // With `activity`, its own status too (execution state, last activity, clients).
  KernelRow kernel(const std::string& name, bool activity = false);
  // What a client needs to connect to a kernel: its host connection file (the key included).
  nlohmann::json connection(const std::string& kernel_id);
  // A connection of the caller's own to a running kernel's channels (NotFound, or Conflict when it
  // is not running).
  std::unique_ptr<KernelChannels> channels(const std::string& kernel);
  // Interrupts the code a kernel runs (interrupt_request on its control channel).
  void interrupt(const std::string& kernel);
  // Restarts a kernel's interpreter, clearing its state: the container and its connections stay.
  void restart(const std::string& kernel);
  // The languages and configs kernels can be made of (Jupyter's kernelspecs), the default first.
  std::vector<KernelSpecRow> kernelspecs();
  // registry.json, brought up to date first.
  nlohmann::json registry();
  std::vector<KernelRow> stop(const StopOptions& options);
  std::vector<KernelRow> stop_all(const StopAllOptions& options);
  CleanupReport cleanup(const OwnerScope& scope = {});
  FindReport find(const FindOptions& options);
  MetricsReport metrics();
  // One refresh of a live view: every kernel with its load (one stats period with a StatsMemory in
  // FleetOptions::stats, which a caller refreshing in a loop should give), pools, latest decisions.
  TopReport top(const TopOptions& options);
  // Runs a kernel for the Jupyter client that wrote `connection_file` (kernel-launch), in the
  // foreground until it exits or options.stop is raised; the kernel's exit code.
  int launch(const LaunchOptions& options);
  // Writes Jupyter kernelspecs that run fleet kernels through kernel-launch; what it wrote.
  std::vector<InstalledKernelspec> install_kernelspecs(const KernelspecOptions& options);
  // The autoscaler (run by serve): its status per service, its decisions (newest first), and
  // starting or stopping it (a running serve follows within a tick).
  nlohmann::json autoscaling();
  nlohmann::json autoscaling_history(std::size_t limit);
  nlohmann::json set_autoscaling(bool enabled);
  // Drains and removes spawned kernels idle with no clients past their template's
  // idle_cull_seconds (fleet.toml; off by default). serve calls it every few seconds.
  std::vector<DrainOutcome> cull_idle();
  // The seed's health shape: healthy, current_replicas, min/max_replicas (of the autoscaled
  // services), active_instances, autoscaling, warm_pool {current_size, target_size, hits, misses,
  // hit_rate_percent}, with the engine's endpoint.
  nlohmann::json fleet_health();
  // Checkpoints saved by drains in this fleet home, newest first.
  std::vector<CheckpointRow> checkpoints();
  // The warm pools: per template, its settings and counters (size, target, hits, misses, hit rate).
  nlohmann::json pools();

  // --- live state
  // Follows the engine's events for the fleet's containers and hands each change to `sink`,
  // keeping registry.json current as they come, until cancelled or the sink returns false. Throws
  // (EngineUnavailable) when the engine goes away: the caller reconnects, passing the time of the
  // last event it saw to catch up.
  void watch(const WatchOptions& options, const EventSink& sink);
  // The fleet's own events (pool, scaling, drain, checkpoint), from every fleet process of this home,
  // as they are recorded, until cancelled or the sink returns false.
  void fleet_events(const WatchOptions& options, const EventSink& sink);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fleet
