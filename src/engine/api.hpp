// The Docker Engine API as the fleet uses it: one small method per endpoint, with option and result
// structs. `Client` (client.hpp) implements it over HTTP; tests of multi-step flows use a stateful
// fake (tests/support/fake_engine.hpp). It knows nothing of compose or the fleet.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/errors.hpp"
#include "engine/streams.hpp"
#include "engine/types.hpp"
#include "engine/url.hpp"
#include "engine/version.hpp"

namespace fleet::engine {

// Stops a streaming call from another thread (it ends within about a second).
using CancelFlag = std::atomic<bool>;

struct PingResult {
  std::string api_version;  // the daemon's newest API, from the Api-Version header
  std::string os_type;
  std::string server;  // e.g. "Docker/20.10.24+dfsg1 (linux)"
};

struct ListContainersOptions {
  bool all = true;  // also stopped ones: the fleet must see everything it created
  Filters filters;  // e.g. {{"label", {"com.docker.compose.project=llmspell"}}}
};

struct CreateContainerResult {
  std::string id;
  std::vector<std::string> warnings;
};

struct RemoveContainerOptions {
  bool force = false;    // kill a running container first
  bool volumes = false;  // also its anonymous volumes
};

struct WaitResult {
  int status_code = 0;
  std::string error;
};

// POST /containers/{id}/update; unset fields stay as they are.
struct ResourceUpdate {
  std::optional<std::int64_t> memory;
  std::optional<std::int64_t> memory_swap;
  std::optional<std::int64_t> memory_reservation;
  std::optional<std::int64_t> nano_cpus;
  std::optional<std::int64_t> cpu_shares;
  std::optional<std::int64_t> pids_limit;
  nlohmann::json body() const;
};

struct LogsOptions {
  bool stdout_stream = true;
  bool stderr_stream = true;
  bool follow = false;
  std::optional<int> tail;            // last N lines; unset = all
  std::optional<std::int64_t> since;  // unix seconds
  bool timestamps = false;
  std::optional<bool> tty;  // the container's TTY setting; looked up when unset
  const CancelFlag* cancel = nullptr;
};

struct OutputChunk {
  StreamId stream;
  std::string_view data;
};
// Return false to stop reading.
using OutputSink = std::function<bool(const OutputChunk&)>;

struct ArchiveResult {
  std::string tar;
  nlohmann::json stat;  // name, size, mode, mtime, linkTarget of the path
};

struct ExecOptions {
  std::vector<std::string> cmd;
  bool tty = false;
  bool attach_stdin = false;
  bool attach_stdout = true;
  bool attach_stderr = true;
  std::vector<std::string> env;
  std::string user;
  std::string working_dir;
  bool privileged = false;
};

struct ExecRunResult {
  int exit_code = -1;
  std::string stdout_text;  // with a TTY, everything arrives here
  std::string stderr_text;
};

struct BuildOptions {
  std::string tag;
  std::string dockerfile = "Dockerfile";
  Labels labels;
  bool no_cache = false;
  std::map<std::string, std::string> build_args;     // buildargs
  std::vector<std::string> cache_from, extra_hosts;  // cachefrom; extrahosts as "host:ip"
  std::string network_mode, target;                  // networkmode; the stage to build
  std::optional<std::int64_t> shm_size;              // bytes
  bool pull = false;                                 // try to pull newer base images
  std::chrono::milliseconds timeout{30 * 60'000};
};
// Progress lines of a build or import ("Step 1/4 : FROM scratch", ...).
using ProgressSink = std::function<void(std::string_view)>;

struct IpamPool {
  std::string subnet, ip_range, gateway;
  std::map<std::string, std::string> aux_addresses;
};
struct Ipam {
  std::string driver;  // empty: the engine's default
  std::vector<IpamPool> config;
  std::map<std::string, std::string> options;
};

struct NetworkCreateOptions {
  std::string name;
  std::string driver = "bridge";
  Labels labels;
  bool internal = false;
  bool attachable = false;
  bool enable_ipv6 = false;
  std::map<std::string, std::string> options;  // the driver's
  std::optional<Ipam> ipam;
};

struct EventsOptions {
  std::optional<std::int64_t> since;  // unix seconds
  std::optional<std::int64_t> until;  // without it the stream follows until cancelled
  Filters filters;
  const CancelFlag* cancel = nullptr;
};

class Api {
 public:
  virtual ~Api() = default;

  // --- system
  virtual PingResult ping() = 0;
  // The API version requests use: the newest both sides speak, negotiated once.
  virtual ApiVersion api_version() = 0;
  virtual VersionInfo version() = 0;
  virtual nlohmann::json info() = 0;
  // Streams events until `until` passes, cancel is set, or the sink returns false.
  virtual void events(const EventsOptions& options, const std::function<bool(const Event&)>& sink) = 0;

  // --- containers
  virtual std::vector<ContainerSummary> list_containers(const ListContainersOptions& options = {}) = 0;
  // `body` is the engine's create body (Image, Cmd, Labels, HostConfig...); name may be empty;
  // `platform` ("linux/amd64"), when given, picks the image variant (API 1.41).
  virtual CreateContainerResult create_container(const std::string& name, const nlohmann::json& body,
                                                 const std::string& platform = "") = 0;
  // start/stop return false when the container already was in that state (304). pause/unpause
  // never do on Engine 20.10: an already paused container is a 409 ConflictError ("is already
  // paused"), one that is not paused a 500 ServerError ("is not paused").
  virtual bool start_container(const std::string& id) = 0;
  // Waits up to `timeout_seconds` (the container's own StopTimeout when unset) before SIGKILL.
  virtual bool stop_container(const std::string& id, std::optional<int> timeout_seconds = std::nullopt) = 0;
  virtual void kill_container(const std::string& id, const std::string& signal = "SIGKILL") = 0;
  virtual void remove_container(const std::string& id, const RemoveContainerOptions& options = {}) = 0;
  virtual bool pause_container(const std::string& id) = 0;
  virtual bool unpause_container(const std::string& id) = 0;
  virtual ContainerInspect inspect_container(const std::string& id) = 0;
  // condition: "not-running", "next-exit" or "removed"; timeout 0 = wait as long as it takes.
  virtual WaitResult wait_container(const std::string& id, const std::string& condition = "not-running",
                                    std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) = 0;
  virtual std::vector<std::string> update_container(const std::string& id, const ResourceUpdate& update) = 0;
  virtual void rename_container(const std::string& id, const std::string& new_name) = 0;
  // Logs decoded into stdout/stderr chunks (raw when the container has a TTY).
  virtual void container_logs(const std::string& id, const LogsOptions& options, const OutputSink& sink) = 0;
  // One sample with precpu filled (the engine waits for two collector ticks: one to two seconds).
  virtual StatsSample container_stats(const std::string& id) = 0;
  // One sample without waiting for the collector's second tick (~1 s instead of ~2): its precpu is
  // empty, so CPU% needs the caller's previous sample (fleet/load.hpp keeps them).
  virtual StatsSample container_stats_one_shot(const std::string& id) { return container_stats(id); }
  // A sample a second until the sink returns false or cancel is set.
  virtual void stream_container_stats(const std::string& id,
                                      const std::function<bool(const StatsSample&)>& sink,
                                      const CancelFlag* cancel = nullptr) = 0;
  virtual ArchiveResult get_archive(const std::string& id, const std::string& path) = 0;
  // Extracts `tar` into directory `path` of the container.
  virtual void put_archive(const std::string& id, const std::string& path, const std::string& tar) = 0;

  // --- exec
  virtual std::string exec_create(const std::string& container_id, const ExecOptions& options) = 0;
  // Runs a created exec attached (no stdin) and hands its output to the sink until it ends.
  virtual void exec_start(const std::string& exec_id, bool tty, const OutputSink& sink) = 0;
  // Starts a created exec and returns at once (its output is dropped); exec_inspect tells when it ends.
  virtual void exec_start_detached(const std::string& exec_id) = 0;
  virtual ExecInspect exec_inspect(const std::string& exec_id) = 0;
  // Runs a created exec with stdin attached: bytes read from `stdin_fd` go to the process until
  // end-of-input, its output to the sink; `tick` is called about five times a second (window size
  // checks). Returns when the process's output ends.
  virtual void exec_attach(const std::string& exec_id, bool tty, int stdin_fd, const OutputSink& sink,
                           const std::function<void()>& tick = nullptr) = 0;
  virtual void exec_resize(const std::string& exec_id, int rows, int columns) = 0;
  // The exit code of an exec whose output has ended (the engine records it a moment later).
  virtual int exec_exit_code(const std::string& exec_id) = 0;
  // create + start + inspect, collecting the output.
  virtual ExecRunResult exec_run(const std::string& container_id, const ExecOptions& options) = 0;

  // --- images
  // Builds from a tar context; returns the image id. Throws BuildError with the daemon's message.
  virtual std::string build_image(const std::string& context_tar, const BuildOptions& options,
                                  const ProgressSink& progress = nullptr) = 0;
  // `docker import`: a rootfs tar becomes image `reference` (repo:tag); returns the image id.
  virtual std::string import_image(const std::string& rootfs_tar, const std::string& reference,
                                   const std::vector<std::string>& changes = {},
                                   const ProgressSink& progress = nullptr) = 0;
  virtual ImageInspect inspect_image(const std::string& name) = 0;
  virtual std::vector<ImageSummary> list_images(const Filters& filters = {}) = 0;
  virtual void remove_image(const std::string& name, bool force = false) = 0;
  // Gives image `source` the further name `target` ("repo:tag"; without a tag, "latest").
  virtual void tag_image(const std::string& source, const std::string& target) = 0;
  // Pulls `reference` from its registry; throws with the daemon's message when it cannot.
  virtual void pull_image(const std::string& reference, const ProgressSink& progress = nullptr) = 0;
  // `docker save` and `docker load` of one image, whole in memory (the fleet's images are tens of MB):
  // how an image reaches a swarm node's engine without a registry.
  virtual std::string save_image(const std::string& name) = 0;
  virtual void load_image(const std::string& tar) = 0;

  // --- networks
  virtual std::string create_network(const NetworkCreateOptions& options) = 0;
  virtual NetworkInfo inspect_network(const std::string& id) = 0;
  virtual std::vector<NetworkInfo> list_networks(const Filters& filters = {}) = 0;
  virtual void remove_network(const std::string& id) = 0;
  virtual void connect_network(const std::string& network, const std::string& container,
                               const std::vector<std::string>& aliases = {}) = 0;
  // The same with a whole EndpointSettings object (Aliases, Links, IPAMConfig, MacAddress, DriverOpts).
  virtual void connect_endpoint(const std::string& network, const std::string& container,
                                const nlohmann::json& endpoint_settings) = 0;
  virtual void disconnect_network(const std::string& network, const std::string& container,
                                  bool force = false) = 0;

  // --- volumes
  virtual VolumeInfo create_volume(const std::string& name, const Labels& labels = {},
                                   const std::string& driver = "local",
                                   const std::map<std::string, std::string>& driver_opts = {}) = 0;
  virtual std::vector<VolumeInfo> list_volumes(const Filters& filters = {}) = 0;
  virtual void remove_volume(const std::string& name, bool force = false) = 0;

  // --- swarm mode (swarm.cpp): a manager's services, tasks, nodes, secrets and configs. An engine
  // that is not a swarm manager answers 503 ("This node is not a swarm manager").
  virtual std::vector<ServiceInfo> list_services(const Filters& filters = {}) = 0;
  virtual ServiceInfo inspect_service(const std::string& id) = 0;
  // Creates a service from a ServiceSpec; returns its id.
  virtual std::string create_service(const nlohmann::json& spec) = 0;
  // `version` is the Version.Index the spec was read at: a stale one is a 500 "update out of
  // sequence". Returns the manager's warnings.
  virtual std::vector<std::string> update_service(const std::string& id, std::uint64_t version,
                                                  const nlohmann::json& spec) = 0;
  virtual void remove_service(const std::string& id) = 0;
  // The logs of every task of a service, multiplexed as a container's (services have no TTY here).
  virtual void service_logs(const std::string& id, const LogsOptions& options, const OutputSink& sink) = 0;
  virtual std::vector<TaskInfo> list_tasks(const Filters& filters = {}) = 0;
  virtual std::vector<NodeInfo> list_nodes(const Filters& filters = {}) = 0;
  virtual NodeInfo inspect_node(const std::string& id) = 0;
  virtual void update_node(const std::string& id, std::uint64_t version, const nlohmann::json& spec) = 0;
  // Secrets and configs: `spec` is {Name, Labels, Data (base64)}; create returns the id.
  virtual std::string create_secret(const nlohmann::json& spec) = 0;
  virtual std::vector<SwarmObject> list_secrets(const Filters& filters = {}) = 0;
  virtual void remove_secret(const std::string& id) = 0;
  virtual std::string create_config(const nlohmann::json& spec) = 0;
  virtual std::vector<SwarmObject> list_configs(const Filters& filters = {}) = 0;
  virtual void remove_config(const std::string& id) = 0;
};

}  // namespace fleet::engine
