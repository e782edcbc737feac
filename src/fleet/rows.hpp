// What the fleet's door (fleet.hpp) takes and gives: option structs in, result rows out, each row
// with a to_json so the CLI's --json and the REST service render the same thing. Plain data: no
// engine or compose types cross the door.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet {

// --- progress of long operations: "Container llmspell-kernel-lua-openai-1" "Started".
struct ProgressEvent {
  enum class Kind { Working, Done, Failed, Warning };
  std::string object;
  std::string status;
  Kind kind = Kind::Working;
};
using ProgressSink = std::function<void(const ProgressEvent&)>;

// --- output of containers (logs, shell)
enum class Stream { Stdout = 1, Stderr = 2 };
// Whole lines, each with its container; called from several threads, never at once.
using LineSink = std::function<void(const std::string& container, Stream stream, std::string_view line)>;
// Raw output chunks; return false to stop reading.
using OutputSink = std::function<bool(Stream stream, std::string_view data)>;

// --- engine
struct VersionReport {
  std::string fleet_version, endpoint, api_in_use;
  std::string engine_version, engine_api, engine_min_api, os, arch;
  nlohmann::json engine_raw;
  nlohmann::json to_json() const;
};
struct PingReport {
  std::string endpoint, api_version;
};

// --- compose project
struct ConfigOptions {
  bool services = false;  // the enabled services' names only
  bool profiles = false;  // every profile the file names only
};
struct ConfigReport {
  std::vector<std::string> names;  // services or profiles, when asked for
  nlohmann::json project;          // the resolved file, enabled services only
};

struct BuildOptions {
  std::vector<std::string> services;  // default: every enabled service with a build section
  std::string context;                // build this folder instead (with tag)
  std::string tag = "llmspell:latest";
  bool no_cache = false;
};
struct BuildReport {
  struct Image {
    std::string tag, id;
    bool rebuilt = false;  // false: the content was unchanged, the image kept
  };
  std::vector<Image> images;
};

struct UpOptions {
  std::vector<std::string> names;       // profiles (as in `up dev`) or services
  std::map<std::string, int> replicas;  // --scale SERVICE=N
  bool wait = false;
  std::chrono::seconds wait_timeout{120};
};
struct ScaleOptions {
  std::map<std::string, int> replicas;
  bool wait = false;
  std::chrono::seconds wait_timeout{120};
};
struct UpReport {
  std::vector<std::string> services;  // targeted
  std::vector<std::string> steps;     // what was done, one line per engine step
  nlohmann::json to_json() const;
};

struct DownOptions {
  bool volumes = false;
  std::optional<int> timeout;  // seconds; else each container's own stop timeout
};
struct DownReport {
  int containers = 0, networks = 0, volumes = 0;  // the project's
  int services = 0;                               // a swarm stack's
  int pool_members = 0;                           // warm pools' members nobody had been handed
  nlohmann::json to_json() const;
};

struct PsRow {
  std::string name, service, state, health, ports;
  int number = 0;
  std::int64_t memory = 0;           // bytes, 0 = unlimited
  double cpus = 0;                   // 0 = unlimited
  std::int64_t uptime_seconds = -1;  // -1 when not running
  std::string id;
  std::string node;  // swarm: the node of the task (its hostname)
  nlohmann::json to_json() const;
};

struct PortProbe {
  std::string host_ip;
  int host_port = 0;
  int container_port = 0;
  bool ok = false;
  std::string error;
};
struct HealthRow {
  std::string name, service, kernel_id, state, health;  // health: healthy, unhealthy, starting, none
  std::vector<PortProbe> probes;                        // a TCP connect to every published port
  std::optional<bool> heartbeat;                        // kernels: a heartbeat round trip answered
  std::string heartbeat_error;
  bool ok = false;  // running, healthy (or no healthcheck), every probe answered
  nlohmann::json to_json() const;
};

struct LogsOptions {
  std::vector<std::string> names;  // kernels (id, name, port), services or containers; empty: all
  bool follow = false;
  std::optional<int> tail;
  std::string since;  // unix seconds, a duration back from now (10m) or an RFC 3339 time
  bool timestamps = false;
  const std::atomic<bool>* cancel = nullptr;
};

struct ShellOptions {
  std::string target;  // a kernel (id, name, port), a container, or a service (with index)
  int index = 1;
  std::vector<std::string> command;  // empty: an interactive shell
  bool tty = false;
  int stdin_fd = -1;                                           // -1: no input
  std::function<void()> tick;                                  // called while attached (resize checks)
  std::function<void(const std::string& session)> on_started;  // the session resize_shell takes
};

struct CleanReport {
  DownReport down;
  int images = 0;
  int test_leftovers = 0;
};

// --- kernels
struct SpawnOptions {
  std::string config;    // a file of configs/ (default: the fleet config's)
  std::string language;  // lua or javascript (default: the fleet config's)
  std::string memory;    // e.g. 512m (default: the fleet config's)
  std::optional<double> cpus;
  std::string name;                 // the kernel id (default kernel-<8 hex digits>)
  std::string owner;                // default: the OS user
  std::string image;                // default: the fleet config's (llmspell:latest)
  std::vector<std::string> labels;  // extra KEY=VALUE labels
  std::string node;                 // swarm backend: the node to run it on (hostname or id)
  // A checkpoint id: the kernel is of the checkpoint's template (language, config, image and
  // limits; none of those may be given too) and starts with its user state loaded.
  std::string restore;
};

// What a kernel can be made of: a language and a kernel config of the configs folder, named as
// Jupyter kernelspecs are ("llmspell-lua-openai").
struct KernelSpecRow {
  std::string name, display_name, language, config;
  bool is_default = false;  // the fleet config's language and config
  nlohmann::json to_json() const;
};

// A Jupyter message as the gateway carries it: one channel's header, parent header, metadata,
// content (JSON objects) and binary buffers.
struct KernelMessage {
  std::string channel;  // shell, control, stdin, iopub
  nlohmann::json header = nlohmann::json::object();
  nlohmann::json parent_header = nlohmann::json::object();
  nlohmann::json metadata = nlohmann::json::object();
  nlohmann::json content = nlohmann::json::object();
  std::vector<std::string> buffers;
};

// One client's own connection to a kernel's channels (Fleet::channels): what it sends is signed
// with the kernel's key; it receives the replies to its requests and every iopub message. receive()
// from one thread; send() from any.
class KernelChannels {
 public:
  virtual ~KernelChannels() = default;
  // InvalidInput for a channel a client does not send on (iopub) or a header without a msg_type.
  virtual void send(KernelMessage message) = 0;
  // The next message from the kernel within `timeout`, its signature checked.
  virtual std::optional<KernelMessage> receive(std::chrono::milliseconds timeout) = 0;
};

// A saved checkpoint (checkpoints.hpp), without its state.
struct CheckpointRow {
  std::string id, kernel_id, language, config, image, owner, origin, project, service;
  std::string created;  // ISO 8601, UTC
  std::int64_t state_bytes = 0;
  std::vector<std::string> skipped;  // globals the kernel could not save (functions...)
  nlohmann::json to_json() const;
};

// How a drain went (drain.hpp).
struct DrainOutcome {
  std::string kernel_id, container;
  double waited_seconds = 0;
  bool timed_out = false;  // E2093: still busy at the timeout, stopped anyway
  std::string checkpoint;  // its id, when one was saved
  std::string error;       // what failed (checkpoint), empty when nothing did
  nlohmann::json to_json() const;
};

struct KernelRow {
  std::string kernel_id, container, container_id;
  std::string origin;  // spawned, or compose (a replica of a service of `project`)
  std::string project, service;
  std::string language, config, owner;
  std::string state;                 // the engine's: running, paused, exited...
  std::string state_reason;          // exited: "exit code 0", "OOM killed"
  std::string health;                // healthy, unhealthy, starting, none
  std::string pool;                  // a warm pool's kernel not handed out yet: filling, ready
  int shell_port = 0;                // host port of the shell socket, 0 when not published
  std::map<std::string, int> ports;  // shell, iopub, stdin, control, hb -> host port
  std::string connection_file;       // empty when none is in this fleet home
  std::int64_t created = 0;          // unix seconds
  // --verbose
  std::optional<double> cpu_percent;
  std::optional<std::int64_t> memory_used, memory_limit;
  std::optional<std::int64_t> uptime_seconds;
  std::optional<int> clients;
  // --verbose or activity: the kernel's own word (status.json)
  std::string execution_state;        // busy, idle, starting; empty when it could not be read
  std::string last_activity;          // ISO 8601, UTC
  std::optional<int> pending;         // execute requests received, not yet answered
  std::optional<DrainOutcome> drain;  // stop: how its drain went
  std::string restored_from;          // spawn --restore: the checkpoint
  std::vector<std::string> restored;  // the globals it loaded
  std::string node;                   // swarm: the node it runs on
  // "exited (OOM killed)", "running", ...
  std::string state_text() const;
  nlohmann::json to_json() const;
};

// One refresh of `top`: every kernel with its load, the warm pools, the autoscaler's latest decisions.
struct PoolRow {
  std::string name;  // a template of fleet.toml, or a compose service
  int current_size = 0, filling = 0, target_size = 0;
  long hits = 0, misses = 0;
  nlohmann::json to_json() const;
};
struct DecisionRow {
  std::string at, project, service, action, summary, outcome;
  nlohmann::json to_json() const;
};
struct TopOptions {
  std::size_t decisions = 5;  // the latest this many
};
struct TopReport {
  std::vector<KernelRow> kernels;  // with cpu, memory, clients, pending, execution state when running
  std::vector<PoolRow> pools;      // serve's pools, as it last said
  bool pools_live = false;         // a serve is keeping them now
  std::vector<DecisionRow> decisions;
  bool autoscaler_running = false;
  double sample_seconds = 0;  // how long the load sample took
  nlohmann::json to_json() const;
};

// kernel-launch: a fleet kernel for a Jupyter client that starts its kernels itself (a kernelspec's
// argv), on the ports and key of the connection file the client wrote.
struct LaunchOptions {
  std::string connection_file;
  std::string language, config;  // default: the fleet config's
  std::string owner;             // default: the OS user
  std::vector<std::string> labels;
  // Raised by the caller's signal handlers: each interrupt is passed on to the kernel (SIGINT);
  // stop stops and removes it (launch then returns 0).
  const std::atomic<int>* interrupts = nullptr;
  const std::atomic<bool>* stop = nullptr;
  // Once the kernel serves: e.g. to tell a watchdog which container to remove if the caller dies.
  std::function<void(const KernelRow&)> started;
};

// kernelspec install: a Jupyter kernelspec per language and kernel config, whose argv runs
// `kernel-launch` of this program.
struct KernelspecOptions {
  std::string launcher;  // absolute path of the llmspell-fleet that the specs run
  // Where: the user's kernels folder (default), PREFIX/share/jupyter/kernels, or the Python
  // environment's (sys-prefix).
  std::string prefix;
  bool sys_prefix = false;
  std::string language, config;     // only these (default: every language, every config)
  std::string name;                 // the spec's name, when only one is installed
  std::vector<std::string> labels;  // KEY=VALUE labels the launched kernels carry
};
struct InstalledKernelspec {
  std::string name, path;  // path: its kernel.json
  nlohmann::json spec;
  nlohmann::json to_json() const;
};

struct ListOptions {
  bool verbose = false;   // CPU, memory, uptime, clients (one stats period, about a second)
  std::string owner;      // only this owner's kernels
  std::string state;      // only kernels in this engine state (running, paused, exited...)
  bool activity = false;  // the kernel's own status (execution state, last activity, clients): no stats
};

struct StopOptions {
  std::vector<std::string> names;  // kernel ids, container names or host ports
  std::optional<int> timeout;      // seconds before SIGKILL (default 30)
  // The drain before the stop: how long to wait for the kernel to be idle, and whether to save a
  // checkpoint of its user state (default: the kernel's template or service says, else 30 s, yes).
  std::optional<int> drain_timeout;
  std::optional<bool> checkpoint;
};
// Whose kernels stop-all and cleanup act on: on a machine several developers share, one developer's
// stop-all must not stop another's kernels.
struct OwnerScope {
  std::string owner;        // default: the OS user
  bool all_owners = false;  // everyone's
};
struct StopAllOptions {
  bool force = false;  // no grace period
  OwnerScope scope;
};

struct CleanupReport {
  std::vector<std::string> removed;           // kernels that had exited or died
  std::vector<std::string> connection_files;  // stale files removed
  int registry_entries_dropped = 0;
  nlohmann::json to_json() const;
};

struct FindOptions {
  std::string language, config;
  std::string memory;  // the template's limits (default: the fleet config's)
  std::optional<double> cpus;
  bool shared = false;              // any owner's kernel will do
  std::string owner;                // default: the OS user
  std::vector<std::string> labels;  // KEY=VALUE labels for a kernel it creates (not matched on)
};
struct FindReport {
  KernelRow kernel;
  bool created = false;
  nlohmann::json to_json() const;
};

// A compose service as it stands: what the file asks for and what runs.
// A node of the swarm (`nodes`): what its manager says, and what its own engine adds.
struct NodeRow {
  std::string id, hostname, role, availability, state, address, engine_version, message;
  bool leader = false;
  std::string endpoint;  // the node's own engine (settings: [swarm] nodes), empty when none matched
  double cpus = 0;
  std::int64_t memory_total = 0;
  int tasks = 0, kernels = 0;  // running tasks of the fleet's services on it, and of them kernels
  // Through its own engine: the fleet's containers' use, summed (unset without an endpoint).
  std::optional<double> cpu_percent;
  std::optional<std::int64_t> memory_used;
  nlohmann::json to_json() const;
};

// A kernel moved off a drained node (drain-node): saved there, restored on the node the swarm chose.
struct NodeDrainRow {
  std::string kernel_id, service, from_node, to_node, checkpoint;
  std::vector<std::string> restored;  // the globals put back
  double seconds = 0;                 // from the checkpoint to the restore
  std::string error;                  // what failed; the kernel then starts afresh where it landed
  nlohmann::json to_json() const;
};

struct ServiceRow {
  std::string name;
  bool enabled = false;  // by the active profiles
  bool kernel = false;   // x-fleet: {kernel: true}
  std::vector<std::string> profiles;
  int desired = 0;     // the file's replica count
  int containers = 0;  // containers the engine has of it
  int running = 0;
  std::vector<std::string> replicas;  // container names
  nlohmann::json to_json() const;
};

// A change to one of the fleet's containers, as the engine reported it.
struct FleetEvent {
  // created, started, paused, unpaused, died, health, removed; engine (up/down); the fleet's own:
  // pool, scaling, drain, checkpoint (with an action: filled, acquired, miss, scale_up, waiting...)
  std::string type;
  std::string action;
  std::string container, container_id, kernel_id, origin, project, service, owner;
  std::optional<int> exit_code;  // died
  bool oom = false;              // died: the kernel's memory limit killed it
  std::string health;            // health: healthy, unhealthy; engine: available, unavailable
  std::string message;           // engine: why it is unavailable; the fleet's: what happened
  nlohmann::json details;        // the fleet's: the decision, the drain, the samples behind it
  std::int64_t time_nano = 0;
  nlohmann::json to_json() const;
};
// Return false to stop watching.
using EventSink = std::function<bool(const FleetEvent&)>;

struct WatchOptions {
  std::optional<std::int64_t> since_nano;  // replay what happened since (catching up after a gap)
  const std::atomic<bool>* cancel = nullptr;
};

struct KernelMetrics {
  std::string kernel_id, state;
  double cpu_percent = 0;
  std::int64_t memory_used = 0, memory_limit = 0;
  double memory_percent = 0;
};
struct MetricsReport {
  std::map<std::string, int> kernels_by_state;
  std::vector<KernelMetrics> kernels;
  double total_cpu_percent = 0;
  std::int64_t total_memory_used = 0, total_memory_limit = 0;
  double sample_seconds = 0;  // how long the parallel sample took
  nlohmann::json to_json() const;
};

}  // namespace fleet
