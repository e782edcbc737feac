// The Engine API over HTTP (api.hpp): one chokepoint (Client::call) adds the negotiated API version
// and turns error statuses into typed errors (errors.hpp).
#pragma once

#include <mutex>

#include "engine/api.hpp"
#include "engine/transport.hpp"
#include "engine/version.hpp"

namespace fleet::engine {

class Client final : public Api {
 public:
  explicit Client(Endpoint endpoint);
  // DOCKER_HOST or the default socket.
  static Client from_environment();

  const Endpoint& endpoint() const { return transport_.endpoint(); }
  // The version requests use; negotiated through /_ping on first use.
  ApiVersion api_version() override;
  long connections_opened() const { return transport_.connections_opened(); }

  // The Engine API (api.hpp documents each call).
  // --- system
  PingResult ping() override;
  VersionInfo version() override;
  nlohmann::json info() override;
  void events(const EventsOptions& options, const std::function<bool(const Event&)>& sink) override;

  // --- containers
  std::vector<ContainerSummary> list_containers(const ListContainersOptions& options = {}) override;
  CreateContainerResult create_container(const std::string& name, const nlohmann::json& body,
                                         const std::string& platform = "") override;
  bool start_container(const std::string& id) override;
  bool stop_container(const std::string& id, std::optional<int> timeout_seconds = std::nullopt) override;
  void kill_container(const std::string& id, const std::string& signal = "SIGKILL") override;
  void remove_container(const std::string& id, const RemoveContainerOptions& options = {}) override;
  bool pause_container(const std::string& id) override;
  bool unpause_container(const std::string& id) override;
  ContainerInspect inspect_container(const std::string& id) override;
  WaitResult wait_container(const std::string& id, const std::string& condition = "not-running",
                            std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) override;
  std::vector<std::string> update_container(const std::string& id, const ResourceUpdate& update) override;
  void rename_container(const std::string& id, const std::string& new_name) override;
  void container_logs(const std::string& id, const LogsOptions& options, const OutputSink& sink) override;
  StatsSample container_stats(const std::string& id) override;
  StatsSample container_stats_one_shot(const std::string& id) override;
  void stream_container_stats(const std::string& id, const std::function<bool(const StatsSample&)>& sink,
                              const CancelFlag* cancel = nullptr) override;
  ArchiveResult get_archive(const std::string& id, const std::string& path) override;
  void put_archive(const std::string& id, const std::string& path, const std::string& tar) override;

  // --- exec
  std::string exec_create(const std::string& container_id, const ExecOptions& options) override;
  void exec_start(const std::string& exec_id, bool tty, const OutputSink& sink) override;
  void exec_start_detached(const std::string& exec_id) override;
  ExecInspect exec_inspect(const std::string& exec_id) override;
  void exec_attach(const std::string& exec_id, bool tty, int stdin_fd, const OutputSink& sink,
                   const std::function<void()>& tick = nullptr) override;
  void exec_resize(const std::string& exec_id, int rows, int columns) override;
  int exec_exit_code(const std::string& exec_id) override;
  ExecRunResult exec_run(const std::string& container_id, const ExecOptions& options) override;

  // --- images
  std::string build_image(const std::string& context_tar, const BuildOptions& options,
                          const ProgressSink& progress = nullptr) override;
  std::string import_image(const std::string& rootfs_tar, const std::string& reference,
                           const std::vector<std::string>& changes = {},
                           const ProgressSink& progress = nullptr) override;
  ImageInspect inspect_image(const std::string& name) override;
  std::vector<ImageSummary> list_images(const Filters& filters = {}) override;
  void remove_image(const std::string& name, bool force = false) override;
  void tag_image(const std::string& source, const std::string& target) override;
  void pull_image(const std::string& reference, const ProgressSink& progress = nullptr) override;
  std::string save_image(const std::string& name) override;
  void load_image(const std::string& tar) override;

  // --- networks
  std::string create_network(const NetworkCreateOptions& options) override;
  NetworkInfo inspect_network(const std::string& id) override;
  std::vector<NetworkInfo> list_networks(const Filters& filters = {}) override;
  void remove_network(const std::string& id) override;
  void connect_network(const std::string& network, const std::string& container,
                       const std::vector<std::string>& aliases = {}) override;
  void connect_endpoint(const std::string& network, const std::string& container,
                        const nlohmann::json& endpoint_settings) override;
  void disconnect_network(const std::string& network, const std::string& container,
                          bool force = false) override;

  // --- volumes
  VolumeInfo create_volume(const std::string& name, const Labels& labels = {},
                           const std::string& driver = "local",
                           const std::map<std::string, std::string>& driver_opts = {}) override;
  std::vector<VolumeInfo> list_volumes(const Filters& filters = {}) override;
  void remove_volume(const std::string& name, bool force = false) override;

  // --- swarm mode (swarm.cpp): a manager's services, tasks, nodes, secrets and configs. An engine
  // that is not a swarm manager answers 503 ("This node is not a swarm manager").
  std::vector<ServiceInfo> list_services(const Filters& filters = {}) override;
  ServiceInfo inspect_service(const std::string& id) override;
  // Creates a service from a ServiceSpec; returns its id.
  std::string create_service(const nlohmann::json& spec) override;
  // `version` is the Version.Index the spec was read at: a stale one is a 500 "update out of
  // sequence". Returns the manager's warnings.
  std::vector<std::string> update_service(const std::string& id, std::uint64_t version,
                                          const nlohmann::json& spec) override;
  void remove_service(const std::string& id) override;
  // The logs of every task of a service, multiplexed as a container's (services have no TTY here).
  void service_logs(const std::string& id, const LogsOptions& options, const OutputSink& sink) override;
  std::vector<TaskInfo> list_tasks(const Filters& filters = {}) override;
  std::vector<NodeInfo> list_nodes(const Filters& filters = {}) override;
  NodeInfo inspect_node(const std::string& id) override;
  void update_node(const std::string& id, std::uint64_t version, const nlohmann::json& spec) override;
  // Secrets and configs: `spec` is {Name, Labels, Data (base64)}; create returns the id.
  std::string create_secret(const nlohmann::json& spec) override;
  std::vector<SwarmObject> list_secrets(const Filters& filters = {}) override;
  void remove_secret(const std::string& id) override;
  std::string create_config(const nlohmann::json& spec) override;
  std::vector<SwarmObject> list_configs(const Filters& filters = {}) override;
  void remove_config(const std::string& id) override;

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
