// The operations behind the door (fleet.hpp), one file each. Internal to the fleet module: they take
// the engine and compose types the door keeps to itself. Each observes, plans and executes through
// the executor when it changes anything.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compose/model.hpp"
#include "compose/profiles.hpp"
#include "engine/api.hpp"
#include "fleet/home.hpp"
#include "fleet/observe.hpp"
#include "fleet/plan.hpp"
#include "fleet/rows.hpp"
#include "fleet/settings.hpp"
#include "fleet/templates.hpp"
#include "util/clock.hpp"

namespace fleet {

class PoolService;
class StatsMemory;

// What every operation works with.
struct Context {
  engine::Api& client;
  FleetHome home = FleetHome::from_environment();
  FleetSettings settings;
  ProgressSink progress = [](const ProgressEvent&) {};
  unsigned parallel = 4;
  util::Clock* clock = nullptr;  // the system clock when null
  PoolService* pools = nullptr;  // warm pools kept by a long-running fleet (serve); none: the engine's
  StatsMemory* stats = nullptr;  // a long-running fleet's previous stats samples (load.hpp)
  // Where kernels' published ports are reached when not at the address they are published on: a
  // swarm node's address (its ports are published on all of its addresses, in its own network).
  std::string kernel_address;

  util::Clock& time() const { return clock ? *clock : util::Clock::system(); }
  void warn(const std::string& object, const std::string& text) const {
    progress({object, text, ProgressEvent::Kind::Warning});
  }
};

// --- the compose project
struct ConvergeOptions {
  compose::SelectionRequest selection;
  std::map<std::string, int> replicas;  // exact counts (scale)
  bool wait = false;
  std::chrono::seconds wait_timeout{120};
};
struct ConvergeResult {
  compose::Selection selection;
  Plan plan;
};
ConvergeResult up(Context& ctx, const compose::Project& project, const ConvergeOptions& options);
// `scale SERVICE N`: converges the named services to their counts (their dependencies come up too).
ConvergeResult scale(Context& ctx, const compose::Project& project,
                     const std::map<std::string, int>& replicas, bool wait,
                     std::chrono::seconds wait_timeout);
DownReport down(Context& ctx, const compose::Project& project, const DownOptions& options);
BuildReport build(Context& ctx, const compose::Project& project, const compose::SelectionRequest& selection,
                  bool no_cache);
std::vector<PsRow> ps(Context& ctx, const compose::Project& project, bool all);
std::vector<ServiceRow> services(Context& ctx, const compose::Project& project,
                                 const std::vector<std::string>& profiles);
CleanReport clean(Context& ctx, const compose::Project& project);

// --- images: one identity for llmspell:latest, whoever builds it (image_build.cpp)
struct ImageBuild {
  std::filesystem::path context;
  std::string dockerfile = "Dockerfile";
  std::string tag;
  bool no_cache = false;
  // A compose service's build section (compose::BuildSpec) beyond context and Dockerfile.
  std::string dockerfile_inline;  // the Dockerfile's text, sent in the context under its own name
  std::map<std::string, std::string> args, labels;
  std::vector<std::string> cache_from, extra_hosts, tags;  // tags: further names for the result
  std::string network, target;
  std::optional<std::int64_t> shm_size;
  bool pull = false;
};
// The build of a service's build section, tagged `tag`.
ImageBuild image_build_of(const compose::BuildSpec& spec, const std::string& tag, bool no_cache);
// The name the Dockerfile of a dockerfile_inline gets in the context.
inline constexpr const char* kInlineDockerfile = ".llmspell-dockerfile-inline";
// Builds unless an image of that tag was built from the same context; removes the image it replaced
// when nothing uses it any more.
BuildReport::Image build_image(Context& ctx, const ImageBuild& build);
// Removes images the fleet built that lost their tag to a rebuild and no container uses.
int remove_replaced_images(Context& ctx);
// The image of `tag`; the kernel image of the settings is built from the kernel's staged context
// when it is missing, any other missing image is an InvalidInput.
std::string ensure_kernel_image(Context& ctx, const std::string& tag);
// Refuses an image that carries the labels the fleet writes on its containers (`docker commit` of a
// kernel copies them): containers made from it could not be told from the fleet's own.
void check_image_labels(const engine::ImageInspect& image, const std::string& name);

// --- any container: kernels by id, name, container id or host port; compose services and
// containers by name (when a project is given). Every name is checked before anything is done:
// one unknown name is a NotFound naming it, and nothing happens.
enum class Resolve { KernelsOnly, Anything };
std::vector<ObservedContainer> resolve(Context& ctx, const compose::Project* project,
                                       const std::vector<std::string>& names, Resolve what);

std::vector<HealthRow> health(Context& ctx, const std::vector<ObservedContainer>& containers);
struct LogsRequest {
  std::vector<ObservedContainer> containers;
  bool follow = false;
  std::optional<int> tail;
  std::optional<std::int64_t> since;
  bool timestamps = false;
  const std::atomic<bool>* cancel = nullptr;
  // With follow: containers of these services of this project that start later are followed too.
  std::string project;
  std::vector<std::string> services;  // empty with a project: any of its services
};
void logs(Context& ctx, const LogsRequest& request, const LineSink& sink);
int shell(Context& ctx, const ObservedContainer& container, const ShellOptions& options,
          const OutputSink& output);

// --- kernels (kernels.cpp)
struct SpawnExtras {
  std::string kernel_id;  // default kernel-<8 hex digits>
  std::string owner;
  std::map<std::string, std::string> labels;
  std::optional<FixedConnection> fixed;  // ports and key chosen by a Jupyter client (kernel-launch)
};
KernelRow spawn(Context& ctx, const Template& t, const SpawnExtras& extras);
// Creates and starts a kernel of `t`, already checked (a block of ports, the image, readiness, its
// connection file); returns its row. What spawn and the warm pool's fills share.
struct StartKernel {
  std::string kernel_id;
  std::string name;  // the container's; default llmspell-<kernel id>
  std::string owner;
  std::map<std::string, std::string> labels;
  std::string cause;
  std::optional<FixedConnection> fixed;
};
KernelRow start_kernel(Context& ctx, const Template& t, const StartKernel& kernel);
// A ready warm-pool member of the template with this identity (among `kernels`), claimed by
// unpausing it, for `owner`; what a fleet without its own pools (the command line) takes first.
std::optional<KernelRow> claim_pooled(Context& ctx, std::vector<ObservedContainer> kernels,
                                      const std::string& identity, const std::string& owner);
std::string new_kernel_id();
// What a kernel's id, owner and extra labels may be (InvalidInput naming the value otherwise).
void check_kernel_id(const std::string& id);
void check_owner(const std::string& owner);
void check_labels(const std::map<std::string, std::string>& extra);
std::vector<KernelRow> list(Context& ctx, const ListOptions& options);
// The kernels' own status (execution state, last activity, clients, pending) and, with `stats`,
// one stats sample each, all at once.
void sample_rows(Context& ctx, std::vector<KernelRow>& rows, bool stats);
// Drains the kernels (drain.hpp), then stops and removes them. `project` (may be null) gives compose
// kernels their service's drain settings.
std::vector<KernelRow> stop(Context& ctx, const StopOptions& options, const compose::Project* project);
std::vector<KernelRow> stop_all(Context& ctx, bool force, const OwnerScope& scope);
CleanupReport cleanup(Context& ctx, const OwnerScope& scope);
FindReport find(Context& ctx, const Template& t, const SpawnExtras& extras, bool shared);
MetricsReport metrics(Context& ctx);
TopReport top(Context& ctx, const TopOptions& options);
// kernel-launch (launch.cpp): a kernel of `t` on the ports and key of a Jupyter connection file, run
// until it exits or the caller says stop; returns the kernel's exit code.
int launch(Context& ctx, const Template& t, const LaunchOptions& options, const FixedConnection& fixed,
           const std::map<std::string, std::string>& labels);
// The id of the kernel launched for a connection file: jupyter-<its name> (jupyter-kernel-<uuid>).
std::string launched_kernel_id(const std::string& connection_file);
// kernelspec install (kernelspecs.cpp).
std::vector<InstalledKernelspec> install_kernelspecs(Context& ctx, const KernelspecOptions& options);
// Drains and removes spawned kernels idle with no clients past their template's idle_cull_seconds
// (idle_cull.cpp); how each drain went.
// `idle_since` is the caller's memory between calls: when each kernel was first seen idle.
std::vector<DrainOutcome> cull_idle(Context& ctx, std::map<std::string, std::int64_t>& idle_since);
// A kernel's host connection file in this fleet home (written from the kernel itself when the home
// has none: a kernel another home spawned).
nlohmann::json kernel_connection(Context& ctx, const std::string& kernel_id);

// --- a running kernel's channels and control (kernel_control.cpp)
std::unique_ptr<KernelChannels> open_channels(Context& ctx, const std::string& kernel);
void interrupt_kernel(Context& ctx, const std::string& kernel);
void restart_kernel(Context& ctx, const std::string& kernel);
std::vector<KernelSpecRow> kernelspecs(Context& ctx);

// --- live state (watch.cpp)
void watch(Context& ctx, const WatchOptions& options, const EventSink& sink);
// A row per kernel from what was observed (no extra engine calls but an inspect of exited ones).
std::vector<KernelRow> kernel_rows(Context& ctx, const std::vector<ObservedContainer>& kernels);

// --- the registry (registry.cpp): registry.json from the engine's state, and the connection files
// of kernels that are gone removed.
struct RegistryRefresh {
  std::vector<KernelRow> rows;       // every kernel, as written
  std::vector<std::string> foreign;  // containers that look like the fleet's and are not
  std::vector<std::string> removed_files;
  int dropped_entries = 0;  // entries of the previous registry.json whose kernel is gone
};
// `remove_stale_files` false: registry.json only (a listing leaves the files to cleanup and changes).
// `wait` false: when another process is rewriting it right now, only observe (a listing need not
// queue behind a rewrite that is under way anyway).
RegistryRefresh refresh_registry(Context& ctx, bool remove_stale_files = true, bool wait = true);
// The same after a change, also after one that failed halfway: a registry that cannot be rewritten
// is a warning, never the change's failure.
void refresh_registry_after_change(Context& ctx);

// --- the swarm backend: the compose commands on a swarm manager (swarm_stack.cpp), and the nodes'
// own engines for what only they can do (swarm_nodes.cpp)
// InvalidInput unless the engine is a manager of an active swarm.
void require_swarm_manager(Context& ctx);
// Deploys the selected services as `docker stack deploy` would: overlay networks, secrets, configs,
// one swarm service per compose service (created, updated when its definition changed, else left).
UpReport swarm_up(Context& ctx, const compose::Project& project, const ConvergeOptions& options);
UpReport swarm_scale(Context& ctx, const compose::Project& project,
                     const std::map<std::string, int>& replicas, bool wait,
                     std::chrono::seconds wait_timeout);
DownReport swarm_down(Context& ctx, const compose::Project& project, const DownOptions& options);
// The stack's tasks (desired running, or all), each with its node.
std::vector<PsRow> swarm_ps(Context& ctx, const compose::Project& project, bool all);
// The logs of the named services (all when empty), a line at a time.
void swarm_logs(Context& ctx, const compose::Project& project, const std::vector<std::string>& names,
                const LogsRequest& request, const LineSink& sink);
struct NodeEngine {
  std::string node_id, endpoint;
  std::shared_ptr<engine::Api> api;
};
// The engines of the settings' nodes that answer, with their swarm node IDs.
std::vector<NodeEngine> node_engines(Context& ctx);
// Loads the services' images onto every node engine that lacks them.
void ensure_service_images(Context& ctx, const compose::Project& project,
                           const std::vector<std::string>& services);
std::vector<NodeRow> swarm_nodes(Context& ctx);
// The stack's running tasks: the task's state, its container's health through its node's engine, a
// heartbeat of kernels and a TCP connect to other services' ports at the node's address.
std::vector<HealthRow> swarm_health(Context& ctx, const compose::Project& project,
                                    const std::vector<std::string>& names);
// Changes a swarm service's spec through `change`, reading its version again when another writer
// got there first ("update out of sequence").
void update_service_spec(Context& ctx, const std::string& id,
                         const std::function<nlohmann::json(nlohmann::json)>& change);
// drain-node: checkpoints every kernel task on the node through its engine, sets the node's
// availability to drain, waits for the swarm to run each task's slot on another node, restores the
// state there and rewrites the connection files. `node` is a hostname or a node id.
std::vector<NodeDrainRow> drain_node(Context& ctx, const std::string& node, std::chrono::seconds timeout);
// Sets a node's availability (active, pause, drain); returns the node's row.
void set_node_availability(Context& ctx, const std::string& node, const std::string& availability);
// Kernels on a swarm (swarm_kernels.cpp): a spawned kernel is a service of one replica
// (llmspell-<kernel id>), on `node` when one is named; its connection file names its node's address.
KernelRow swarm_spawn(Context& ctx, const Template& t, const SpawnExtras& extras, const std::string& node);
// Every kernel on the swarm: spawned ones and the replicas of compose kernel services.
std::vector<KernelRow> swarm_list(Context& ctx, const ListOptions& options);
// Stops spawned kernels (their services go, with their connection files); a compose replica is
// scaled, not stopped.
std::vector<KernelRow> swarm_stop(Context& ctx, const StopOptions& options);
// Loads images onto every node engine that lacks them, from the manager, a node or this machine.
void ensure_images_on_nodes(Context& ctx, std::vector<std::string> images);
// <kernel_id>.json for a running task, read through its node's engine, at the node's address.
std::filesystem::path write_task_connection_file(Context& ctx, engine::Api& node,
                                                 const std::string& node_address,
                                                 const engine::TaskInfo& task, const std::string& kernel_id);
// Host connection files (<stack>_<service>.<slot>.json) of the stack's running kernel tasks, their
// ports on their node's address, read through each node's engine; the paths written.
std::vector<std::string> write_swarm_connection_files(Context& ctx, const compose::Project& project,
                                                      bool say_missing = true);

}  // namespace fleet
