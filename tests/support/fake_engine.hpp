// A stateful, in-memory engine::Api for pure unit tests of multi-step fleet flows (spawn, stop,
// cleanup, find, later the pool and drain). It answers like Docker Engine 20.10 / API 1.41 where
// the fleet relies on it: the same status codes and the daemon's own wording (measured against the
// real engine), image labels merged under container labels, published ports, 304 answers. What it
// does not model throws std::logic_error("not in the fake: <call>") rather than pretend.
//
// Anything that touches Docker is still tested against the real engine (tests/integration).
//
// Thread-safe: one mutex guards everything (the fleet calls it from several threads). Behaviours
// (on_start) run under that mutex, so they must not call back into the fake.
#pragma once

#include <random>

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/api.hpp"

namespace fleet::test {

struct FakeFile {
  std::string content;
  unsigned mode = 0644;
};

// A container as the fake keeps it. Tests read snapshots of it (container(), containers()) and
// behaviours change it when it starts.
struct FakeContainer {
  std::string id;                 // 64 hex digits
  std::string name;               // without the leading '/'
  std::string image;              // as asked for in the create body, e.g. "llmspell:latest"
  std::string image_id;           // "sha256:..."
  nlohmann::json body;            // the create body as given
  engine::Labels labels;          // the image's labels with the body's over them
  std::vector<std::string> env;   // the body's Env with the image's added for keys it lacks
  std::string state = "created";  // created, running, paused, exited
  int exit_code = 0;
  std::string error;         // State.Error: why the last start failed
  std::string health;        // with a Healthcheck in the body: starting, healthy, unhealthy
  std::int64_t created = 0;  // unix seconds, strictly increasing per container
  std::int64_t started_at = 0, finished_at = 0;
  int starts = 0;
  std::optional<int> last_stop_timeout;  // `t` of the last stop
  // Published while running or paused: "9555/tcp" -> bindings with the host port actually taken.
  std::map<std::string, std::vector<engine::HostPortBinding>> published;
  std::map<std::string, FakeFile> files;  // absolute path in the container -> file
  std::set<std::string> networks;         // names

  bool running() const { return state == "running" || state == "paused"; }
  // Puts a file into the container's filesystem (parent folders are implicit).
  void put_file(const std::string& path, const std::string& content, unsigned mode = 0644);
  // The value of environment variable `variable`, else `fallback`.
  std::string env_value(const std::string& variable, const std::string& fallback = "") const;
  // The first published host port of container port `private_port`/tcp, 0 when none.
  int host_port(int private_port) const;
};

struct FakeImage {
  std::string id;                 // "sha256:..."
  std::vector<std::string> tags;  // "repo:tag"; empty: dangling
  engine::Labels labels;
  std::vector<std::string> env;
  std::int64_t created = 0;
};

struct FakeNetwork {
  std::string id, name, driver;
  engine::Labels labels;
  bool internal = false;
  std::set<std::string> containers;  // container ids
};

struct FakeVolume {
  std::string name, driver;
  engine::Labels labels;
};

class FakeEngine : public engine::Api {
 public:
  using Behaviour = std::function<void(FakeContainer&)>;

  FakeEngine();

  // --- what a test sets up or looks at (not engine calls: not logged, never fail)
  // Adds an image (or moves `tag` to a new one, leaving the old one dangling); returns its id.
  std::string add_image(const std::string& tag, const engine::Labels& labels = {},
                        const std::vector<std::string>& env = {});
  // Runs `behaviour` on every container right after it started (its ports are published). A
  // behaviour may put files, set health, or end the container (state "exited", an exit code).
  void on_start(Behaviour behaviour);
  // What a kernel does once it serves: writes status.json ({"execution_state":"idle"}) into its
  // state folder and its connection file (container ports 9555-9559, key "k"), at the paths its
  // environment names (LLMSPELL_STATE_DIR, LLMSPELL_CONNECTION_FILE) or the defaults.
  static Behaviour kernel_behaviour();
  // The next call named `call` (the first word of its log line: "create", "start", "get_archive"...)
  // throws `error` instead of doing anything. Several queue up in order.
  template <typename E>
  void fail_next(const std::string& call, E error) {
    fail_next_with(call, std::make_exception_ptr(std::move(error)));
  }
  void fail_next_with(const std::string& call, std::exception_ptr error);
  // Every engine call made so far, in order: "create llmspell-kernel-x", "start <id>", "stop <id> t=30"
  // (t when given), "get_archive <id> <path>", "build <tag>", "inspect_image <ref>", "list_containers"...
  // A container is named as the caller named it (id or name).
  std::vector<std::string> calls() const;
  // The calls whose first word is `call`.
  std::vector<std::string> calls_named(const std::string& call) const;
  void clear_calls();

  std::vector<FakeContainer> containers() const;
  // By id, id prefix or name; nullopt when there is none.
  std::optional<FakeContainer> container(const std::string& ref) const;
  std::vector<FakeImage> images() const;
  std::optional<FakeImage> image(const std::string& ref) const;
  std::vector<FakeNetwork> networks() const;
  std::vector<FakeVolume> volumes() const;
  // The process of a running (or paused) container ends by itself, e.g. a crash.
  void exit_container(const std::string& ref, int exit_code);
  void set_health(const std::string& ref, const std::string& health);
  void put_file(const std::string& ref, const std::string& path, const std::string& content,
                unsigned mode = 0644);

  // --- engine::Api
  engine::PingResult ping() override;
  engine::ApiVersion api_version() override;
  engine::VersionInfo version() override;
  nlohmann::json info() override;
  void events(const engine::EventsOptions& options,
              const std::function<bool(const engine::Event&)>& sink) override;

  std::vector<engine::ContainerSummary> list_containers(
      const engine::ListContainersOptions& options = {}) override;
  engine::CreateContainerResult create_container(const std::string& name, const nlohmann::json& body,
                                                 const std::string& platform = "") override;
  bool start_container(const std::string& id) override;
  bool stop_container(const std::string& id, std::optional<int> timeout_seconds = std::nullopt) override;
  void kill_container(const std::string& id, const std::string& signal = "SIGKILL") override;
  void remove_container(const std::string& id, const engine::RemoveContainerOptions& options = {}) override;
  bool pause_container(const std::string& id) override;
  bool unpause_container(const std::string& id) override;
  engine::ContainerInspect inspect_container(const std::string& id) override;
  engine::WaitResult wait_container(const std::string& id, const std::string& condition = "not-running",
                                    std::chrono::milliseconds timeout = std::chrono::milliseconds{
                                        0}) override;
  std::vector<std::string> update_container(const std::string& id,
                                            const engine::ResourceUpdate& update) override;
  void rename_container(const std::string& id, const std::string& new_name) override;
  void container_logs(const std::string& id, const engine::LogsOptions& options,
                      const engine::OutputSink& sink) override;
  engine::StatsSample container_stats(const std::string& id) override;
  void stream_container_stats(const std::string& id,
                              const std::function<bool(const engine::StatsSample&)>& sink,
                              const engine::CancelFlag* cancel = nullptr) override;
  engine::ArchiveResult get_archive(const std::string& id, const std::string& path) override;
  void put_archive(const std::string& id, const std::string& path, const std::string& tar) override;

  std::string exec_create(const std::string& container_id, const engine::ExecOptions& options) override;
  void exec_start(const std::string& exec_id, bool tty, const engine::OutputSink& sink) override;
  void exec_start_detached(const std::string& exec_id) override;
  engine::ExecInspect exec_inspect(const std::string& exec_id) override;
  void exec_attach(const std::string& exec_id, bool tty, int stdin_fd, const engine::OutputSink& sink,
                   const std::function<void()>& tick = nullptr) override;
  void exec_resize(const std::string& exec_id, int rows, int columns) override;
  int exec_exit_code(const std::string& exec_id) override;
  engine::ExecRunResult exec_run(const std::string& container_id,
                                 const engine::ExecOptions& options) override;

  std::string build_image(const std::string& context_tar, const engine::BuildOptions& options,
                          const engine::ProgressSink& progress = nullptr) override;
  std::string import_image(const std::string& rootfs_tar, const std::string& reference,
                           const std::vector<std::string>& changes = {},
                           const engine::ProgressSink& progress = nullptr) override;
  engine::ImageInspect inspect_image(const std::string& name) override;
  std::vector<engine::ImageSummary> list_images(const engine::Filters& filters = {}) override;
  void remove_image(const std::string& name, bool force = false) override;
  void tag_image(const std::string& source, const std::string& target) override;
  // There is no registry: every pull fails as the real engine's does here.
  void pull_image(const std::string& reference, const engine::ProgressSink& progress = nullptr) override;
  std::string save_image(const std::string& name) override;
  void load_image(const std::string& tar) override;

  std::string create_network(const engine::NetworkCreateOptions& options) override;
  engine::NetworkInfo inspect_network(const std::string& id) override;
  std::vector<engine::NetworkInfo> list_networks(const engine::Filters& filters = {}) override;
  void remove_network(const std::string& id) override;
  void connect_network(const std::string& network, const std::string& container,
                       const std::vector<std::string>& aliases = {}) override;
  void connect_endpoint(const std::string& network, const std::string& container,
                        const nlohmann::json& endpoint_settings) override;
  void disconnect_network(const std::string& network, const std::string& container,
                          bool force = false) override;

  engine::VolumeInfo create_volume(const std::string& name, const engine::Labels& labels = {},
                                   const std::string& driver = "local",
                                   const std::map<std::string, std::string>& driver_opts = {}) override;
  std::vector<engine::VolumeInfo> list_volumes(const engine::Filters& filters = {}) override;
  void remove_volume(const std::string& name, bool force = false) override;

  // The fake has no swarm mode: each of these throws UnsupportedEngineError.
  std::vector<engine::ServiceInfo> list_services(const engine::Filters& filters = {}) override;
  engine::ServiceInfo inspect_service(const std::string& id) override;
  std::string create_service(const nlohmann::json& spec) override;
  std::vector<std::string> update_service(const std::string& id, std::uint64_t version,
                                          const nlohmann::json& spec) override;
  void remove_service(const std::string& id) override;
  void service_logs(const std::string& id, const engine::LogsOptions& options,
                    const engine::OutputSink& sink) override;
  std::vector<engine::TaskInfo> list_tasks(const engine::Filters& filters = {}) override;
  std::vector<engine::NodeInfo> list_nodes(const engine::Filters& filters = {}) override;
  engine::NodeInfo inspect_node(const std::string& id) override;
  void update_node(const std::string& id, std::uint64_t version, const nlohmann::json& spec) override;
  std::string create_secret(const nlohmann::json& spec) override;
  std::vector<engine::SwarmObject> list_secrets(const engine::Filters& filters = {}) override;
  void remove_secret(const std::string& id) override;
  std::string create_config(const nlohmann::json& spec) override;
  std::vector<engine::SwarmObject> list_configs(const engine::Filters& filters = {}) override;
  void remove_config(const std::string& id) override;

 private:
  // Logs the call and throws a queued fault for it; the caller holds mu_.
  void enter(const std::string& line);
  FakeContainer* find_container(const std::string& ref);
  FakeContainer& container_or_throw(const std::string& ref, const std::string& what);
  FakeImage* find_image(const std::string& ref);
  FakeImage& image_or_throw(const std::string& ref, const std::string& what, const std::string& message);
  FakeNetwork* find_network(const std::string& ref);
  std::string add_image_locked(const std::string& tag, const engine::Labels& labels,
                               const std::vector<std::string>& env);
  void publish_ports(FakeContainer& c);
  int ephemeral_port();
  bool host_port_in_use(int port, const std::string& proto, const std::string& ip,
                        const std::string& except) const;
  void end_process(FakeContainer& c, int exit_code);
  std::string new_id(const std::string& kind);
  std::int64_t tick();
  nlohmann::json summary_json(const FakeContainer& c) const;
  nlohmann::json inspect_json(const FakeContainer& c) const;
  nlohmann::json image_inspect_json(const FakeImage& i) const;
  nlohmann::json network_json(const FakeNetwork& n) const;

  mutable std::mutex mu_;
  std::vector<FakeContainer> containers_;  // in creation order
  std::vector<FakeImage> images_;
  std::vector<FakeNetwork> networks_;
  std::vector<FakeVolume> volumes_;
  std::vector<Behaviour> behaviours_;
  std::vector<std::string> calls_;
  std::map<std::string, std::deque<std::exception_ptr>> faults_;
  std::uint64_t next_id_ = 1;
  std::string salt_ = std::to_string(std::random_device{}()) + "-" + std::to_string(std::random_device{}());
  std::int64_t now_ = 1'790'000'000;  // the fake's unix time: every change moves it on a second
  int next_ephemeral_ = 32768;
};

}  // namespace fleet::test
