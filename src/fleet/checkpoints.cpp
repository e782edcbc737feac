// Checkpoints of kernels' user state: saved before a drain, listed, loaded into a new kernel
// (checkpoints.hpp).
#include "fleet/checkpoints.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <regex>

#include "engine/errors.hpp"
#include "fleet/connection_files.hpp"
#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/timestamps.hpp"
#include "jupyter/client.hpp"
#include "util/atomic_file.hpp"
#include "util/base64.hpp"
#include "util/tar.hpp"

namespace fleet {
namespace {

constexpr auto kCheckpointTimeout = std::chrono::seconds(15);
constexpr int kFormat = 1;

// What of the state folder goes into a checkpoint: not the connection file (the kernel's key: the
// new kernel has its own), wherever the container says it is, nor the status file (the new
// kernel's own activity). `path` is the archive's, under the folder's own name.
bool keep_in_checkpoint(const std::string& path, const std::string& folder,
                        const std::string& connection_file) {
  const std::string name = path.substr(path.rfind('/') + 1);
  const std::string parent = folder.substr(0, folder.rfind('/'));
  const std::string absolute = parent + "/" + path;
  return absolute != connection_file && name != "connection.json" && name != "status.json" &&
         name.rfind(".status.json", 0) != 0;
}

std::string state_dir(const engine::ContainerInspect& in) {
  return container_env(in, "LLMSPELL_STATE_DIR", "/var/lib/llmspell/state");
}

void check_checkpoint_id(const std::string& id) {
  static const std::regex valid("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,120}");
  if (!std::regex_match(id, valid) || id.find("..") != std::string::npos)
    throw InvalidInput("checkpoint \"" + id + "\" is not a checkpoint id (see `llmspell-fleet checkpoints`)");
}

CheckpointRow row_of(const nlohmann::json& j) {
  CheckpointRow r;
  auto text = [&j](const char* key) { return j.value(key, std::string()); };
  r.id = text("id");
  r.kernel_id = text("kernel_id");
  r.language = text("language");
  r.config = text("config");
  r.image = text("image");
  r.owner = text("owner");
  r.origin = text("origin");
  r.project = text("project");
  r.service = text("service");
  r.created = text("created");
  if (j.contains("state")) r.state_bytes = static_cast<std::int64_t>(j["state"].dump().size());
  for (const auto& s : j.value("skipped", nlohmann::json::array()))
    r.skipped.push_back(s.is_object() ? s.value("name", std::string()) : s.dump());
  return r;
}

}  // namespace

nlohmann::json kernel_control_request(Context& ctx, const ObservedContainer& kernel, const std::string& type,
                                      const nlohmann::json& content, std::chrono::milliseconds timeout) {
  engine::ContainerInspect in = ctx.client.inspect_container(kernel.id);
  nlohmann::json connection = to_host_connection(read_kernel_connection_file(ctx.client, in), in);
  if (!ctx.kernel_address.empty()) connection["ip"] = ctx.kernel_address;
  jupyter::Endpoint endpoint{
      .ip = connection.value("ip", std::string("127.0.0.1")),
      .port = connection.value("control_port", 0),
      .key = connection.value("key", std::string()),
      .signature_scheme = connection.value("signature_scheme", std::string("hmac-sha256"))};
  nlohmann::json reply;
  try {
    reply = jupyter::request(endpoint, type, content, timeout);
  } catch (const std::exception& e) {
    throw OperationFailed(kernel.kernel_id + ": " + type + ": " + e.what());
  }
  if (reply.value("status", std::string()) != "ok")
    throw OperationFailed(kernel.kernel_id + ": " + type + " failed: " + reply.value("ename", std::string()) +
                          " " + reply.value("evalue", std::string()));
  return reply;
}

std::string save_checkpoint(Context& ctx, const ObservedContainer& kernel) {
  nlohmann::json state = kernel_control_request(ctx, kernel, "llmspell_checkpoint_request",
                                                nlohmann::json::object(), kCheckpointTimeout);
  engine::ContainerInspect in = ctx.client.inspect_container(kernel.id);
  util::TarWriter kept;
  const std::string connection_file =
      container_env(in, "LLMSPELL_CONNECTION_FILE", kDefaultKernelConnectionFile);
  for (const auto& entry : util::read_tar(ctx.client.get_archive(kernel.id, state_dir(in)).tar))
    if (entry.type != util::TarEntry::Type::File ||
        keep_in_checkpoint(entry.path, state_dir(in), connection_file))
      kept.add(entry);

  const std::string id = kernel.kernel_id + "-" + utc_now("%Y%m%dT%H%M%SZ");
  nlohmann::json file = {
      {"format", kFormat},
      {"id", id},
      {"created", utc_now()},
      {"kernel_id", kernel.kernel_id},
      {"container", kernel.name},
      {"origin", kernel.spawned() ? "spawned" : "compose"},
      {"project", kernel.project},
      {"service", kernel.service},
      {"owner", kernel.owner()},
      {"language", kernel.label(labels::kLanguage)},
      {"config", kernel.label(labels::kConfig)},
      {"image", in.config_image},
      {"memory", in.memory},
      {"cpus", static_cast<double>(in.nano_cpus) / 1e9},
      {"pids_limit", in.pids_limit},
      {"template", kernel.label(labels::kTemplate)},
      {"state", state.value("state", nlohmann::json::object())},
      {"skipped", state.value("skipped", nlohmann::json::array())},
      {"state_dir", {{"path", state_dir(in)}, {"tar_base64", util::base64_encode(kept.finish())}}}};
  ctx.home.prepare();
  util::write_file_atomically(ctx.home.checkpoints_dir() / (id + ".json"), file.dump(), 0600);
  return id;
}

std::vector<CheckpointRow> list_checkpoints(const FleetHome& home) {
  std::vector<CheckpointRow> rows;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(home.checkpoints_dir(), ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_object() && j.contains("id")) rows.push_back(row_of(j));
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.created > b.created; });
  return rows;
}

nlohmann::json read_checkpoint(const FleetHome& home, const std::string& id) {
  check_checkpoint_id(id);
  auto path = home.checkpoints_dir() / (id + ".json");
  std::ifstream in(path);
  if (!in) throw NotFound("no checkpoint \"" + id + "\" in " + home.checkpoints_dir().string());
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || j.value("format", 0) != kFormat || !j.contains("state") || !j.contains("language"))
    throw InvalidInput(path.string() + " is not a checkpoint the fleet can read");
  return j;
}

Template checkpoint_template(const nlohmann::json& c) {
  return {.language = c.value("language", std::string()),
          .config = c.value("config", std::string()),
          .image = c.value("image", std::string()),
          .memory = c.value("memory", std::int64_t{0}),
          .cpus = c.value("cpus", 0.0),
          .pids_limit = c.value("pids_limit", std::int64_t{0})};
}

std::vector<std::string> load_checkpoint(Context& ctx, const ObservedContainer& kernel,
                                         const nlohmann::json& checkpoint) {
  const auto& dir = checkpoint["state_dir"];
  std::string tar = util::base64_decode(dir.value("tar_base64", std::string()));
  if (!tar.empty() && !util::read_tar(tar).empty()) {
    // The archive's entries start with the folder's own name: it goes back into the folder's parent.
    std::string path = dir.value("path", std::string("/var/lib/llmspell/state"));
    ctx.client.put_archive(
        kernel.id, path.substr(0, path.rfind('/')).empty() ? "/" : path.substr(0, path.rfind('/')), tar);
  }
  nlohmann::json reply = kernel_control_request(ctx, kernel, "llmspell_restore_request",
                                                {{"state", checkpoint["state"]}}, kCheckpointTimeout);
  return reply.value("restored", std::vector<std::string>{});
}

}  // namespace fleet
