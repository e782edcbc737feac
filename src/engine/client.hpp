// Docker Engine API client: one small method per endpoint, with option and result structs. It knows
// nothing of compose or the fleet. All calls go through one chokepoint (Client::call) that adds the
// negotiated API version and turns error statuses into typed errors (errors.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/errors.hpp"
#include "engine/streams.hpp"
#include "engine/transport.hpp"
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
  std::chrono::milliseconds timeout{30 * 60'000};
};
// Progress lines of a build or import ("Step 1/4 : FROM scratch", ...).
using ProgressSink = std::function<void(std::string_view)>;

struct NetworkCreateOptions {
  std::string name;
  std::string driver = "bridge";
  Labels labels;
  bool internal = false;
  bool attachable = false;
};

struct EventsOptions {
  std::optional<std::int64_t> since;  // unix seconds
  std::optional<std::int64_t> until;  // without it the stream follows until cancelled
  Filters filters;
  const CancelFlag* cancel = nullptr;
};

class Client {
 public:
  explicit Client(Endpoint endpoint);
  // DOCKER_HOST or the default socket.
  static Client from_environment();

  const Endpoint& endpoint() const { return transport_.endpoint(); }
  // The version requests use; negotiated through /_ping on first use.
  ApiVersion api_version();
  long connections_opened() const { return transport_.connections_opened(); }

  // --- system
  PingResult ping();
  VersionInfo version();
  nlohmann::json info();
  // Streams events until `until` passes, cancel is set, or the sink returns false.
  void events(const EventsOptions& options, const std::function<bool(const Event&)>& sink);

  // --- containers
  std::vector<ContainerSummary> list_containers(const ListContainersOptions& options = {});
  // `body` is the engine's create body (Image, Cmd, Labels, HostConfig...); name may be empty.
  CreateContainerResult create_container(const std::string& name, const nlohmann::json& body);
  // start/stop/pause/unpause return false when the container already was in that state (304).
  bool start_container(const std::string& id);
  // Waits up to `timeout_seconds` (the container's own StopTimeout when unset) before SIGKILL.
  bool stop_container(const std::string& id, std::optional<int> timeout_seconds = std::nullopt);
  void kill_container(const std::string& id, const std::string& signal = "SIGKILL");
  void remove_container(const std::string& id, const RemoveContainerOptions& options = {});
  bool pause_container(const std::string& id);
  bool unpause_container(const std::string& id);
  ContainerInspect inspect_container(const std::string& id);
  // condition: "not-running", "next-exit" or "removed"; timeout 0 = wait as long as it takes.
  WaitResult wait_container(const std::string& id, const std::string& condition = "not-running",
                            std::chrono::milliseconds timeout = std::chrono::milliseconds{0});
  std::vector<std::string> update_container(const std::string& id, const ResourceUpdate& update);
  void rename_container(const std::string& id, const std::string& new_name);
  // Logs decoded into stdout/stderr chunks (raw when the container has a TTY).
  void container_logs(const std::string& id, const LogsOptions& options, const OutputSink& sink);
  // One sample with precpu filled (the engine waits for its next tick: about a second).
  StatsSample container_stats(const std::string& id);
  // A sample a second until the sink returns false or cancel is set.
  void stream_container_stats(const std::string& id, const std::function<bool(const StatsSample&)>& sink,
                              const CancelFlag* cancel = nullptr);
  ArchiveResult get_archive(const std::string& id, const std::string& path);
  // Extracts `tar` into directory `path` of the container.
  void put_archive(const std::string& id, const std::string& path, const std::string& tar);

  // --- exec
  std::string exec_create(const std::string& container_id, const ExecOptions& options);
  // Runs a created exec attached (no stdin) and hands its output to the sink until it ends.
  void exec_start(const std::string& exec_id, bool tty, const OutputSink& sink);
  ExecInspect exec_inspect(const std::string& exec_id);
  // Runs a created exec with stdin attached: bytes read from `stdin_fd` go to the process until
  // end-of-input, its output to the sink; `tick` is called about five times a second (window size
  // checks). Returns when the process's output ends.
  void exec_attach(const std::string& exec_id, bool tty, int stdin_fd, const OutputSink& sink,
                   const std::function<void()>& tick = nullptr);
  void exec_resize(const std::string& exec_id, int rows, int columns);
  // The exit code of an exec whose output has ended (the engine records it a moment later).
  int exec_exit_code(const std::string& exec_id);
  // create + start + inspect, collecting the output.
  ExecRunResult exec_run(const std::string& container_id, const ExecOptions& options);

  // --- images
  // Builds from a tar context; returns the image id. Throws BuildError with the daemon's message.
  std::string build_image(const std::string& context_tar, const BuildOptions& options,
                          const ProgressSink& progress = nullptr);
  // `docker import`: a rootfs tar becomes image `reference` (repo:tag); returns the image id.
  std::string import_image(const std::string& rootfs_tar, const std::string& reference,
                           const std::vector<std::string>& changes = {},
                           const ProgressSink& progress = nullptr);
  ImageInspect inspect_image(const std::string& name);
  std::vector<ImageSummary> list_images(const Filters& filters = {});
  void remove_image(const std::string& name, bool force = false);

  // --- networks
  std::string create_network(const NetworkCreateOptions& options);
  NetworkInfo inspect_network(const std::string& id);
  std::vector<NetworkInfo> list_networks(const Filters& filters = {});
  void remove_network(const std::string& id);
  void connect_network(const std::string& network, const std::string& container,
                       const std::vector<std::string>& aliases = {});
  void disconnect_network(const std::string& network, const std::string& container, bool force = false);

  // --- volumes
  VolumeInfo create_volume(const std::string& name, const Labels& labels = {},
                           const std::string& driver = "local");
  std::vector<VolumeInfo> list_volumes(const Filters& filters = {});
  void remove_volume(const std::string& name, bool force = false);

 private:
  struct Call {
    std::string method = "GET";
    std::string path;  // unversioned, e.g. "/containers/json"
    Query query;
    std::string body;
    std::string content_type;  // "application/json" when body is JSON
    std::chrono::milliseconds timeout{60'000};
    std::function<bool(std::string_view)> on_data;
    const CancelFlag* cancel = nullptr;
    std::string what;  // names the call in errors
  };
  // The chokepoint: versioned target, typed errors for statuses >= 400, 304 passed through.
  HttpResponse call(Call c);
  static Call json_call(std::string method, std::string path, const nlohmann::json& body, std::string what);
  nlohmann::json call_json(Call c);
  // Streams newline-delimited JSON records to `record` (build, import, events, stats).
  HttpResponse call_json_lines(Call c, const std::function<bool(const nlohmann::json&)>& record);
  // A streamed container/exec output body: multiplexed unless tty.
  void read_output(Call c, bool tty, const OutputSink& sink);

  Transport transport_;
  std::once_flag negotiated_;
  ApiVersion version_;
};

// Path segment for an id or name inside a URL.
std::string path_segment(std::string_view id_or_name);

}  // namespace fleet::engine
