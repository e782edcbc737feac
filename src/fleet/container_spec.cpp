#include "fleet/container_spec.hpp"

#include "fleet/errors.hpp"
#include "fleet/labels.hpp"

namespace fleet {
namespace {

std::string port_key(int port, const std::string& protocol) {
  return std::to_string(port) + "/" + protocol;
}

nlohmann::json restart_policy(const std::string& restart) {
  if (restart.empty() || restart == "no") return {{"Name", "no"}};
  if (restart.rfind("on-failure:", 0) == 0)
    return {{"Name", "on-failure"}, {"MaximumRetryCount", std::stoi(restart.substr(11))}};
  return {{"Name", restart}};
}

}  // namespace

bool is_kernel_service(const compose::Service& s) {
  auto it = s.extensions.find("x-fleet");
  return it != s.extensions.end() && it->is_object() && it->value("kernel", false);
}

std::string kernel_language(const compose::Service& s) {
  std::string language = "lua";
  if (s.command)
    for (std::size_t i = 0; i + 1 < s.command->size(); ++i)
      if ((*s.command)[i] == "--language") language = (*s.command)[i + 1];
  return language == "js" ? "javascript" : language;
}

std::string kernel_config(const compose::Service& s) {
  for (const auto& v : s.volumes)
    if (v.target == kKernelConfigPath) return std::filesystem::path(v.source).filename().string();
  return "";
}

compose::Healthcheck kernel_healthcheck() {
  return {.test = {"CMD", "/usr/local/bin/llmspell-kernel", "probe"},
          .interval_ns = 5'000'000'000,
          .timeout_ns = 3'000'000'000,
          .start_period_ns = 5'000'000'000,
          .retries = 3};
}

void check_plain_name(const std::string& what, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\\') != std::string::npos || name.find('\0') != std::string::npos)
    throw InvalidInput(what + " \"" + name + "\" must be a plain file name (no path separators, not \"..\")");
}

std::string container_name(const compose::Project& p, const compose::Service& s, int number) {
  if (!s.container_name.empty()) return s.container_name;
  return p.name + "-" + s.name + "-" + std::to_string(number);
}

std::string container_name(const compose::Project& p, const compose::Service& s, const ReplicaIdentity& who) {
  return who.spawned() ? "llmspell-" + who.kernel_id : container_name(p, s, who.number);
}

nlohmann::json container_labels(const compose::Project& p, const compose::Service& s,
                                const ReplicaIdentity& who, const std::string& image_id) {
  nlohmann::json l = s.labels;
  for (const auto& [key, value] : who.labels) l[key] = value;
  l[labels::kManaged] = "true";
  if (who.spawned()) {
    l[labels::kOrigin] = "spawned";
    // The template's identity when the service is a template (templates.hpp), else its config hash.
    auto x = s.extensions.find("x-fleet");
    l[labels::kTemplate] = x != s.extensions.end() && x->is_object() && x->contains("template")
                               ? (*x)["template"].get<std::string>()
                               : compose::config_hash(s);
  } else {
    l[labels::kOrigin] = "compose";
    l[labels::kComposeProject] = p.name;
    l[labels::kComposeService] = s.name;
    l[labels::kComposeNumber] = std::to_string(who.number);
    l[labels::kComposeOneoff] = "False";
    l[labels::kComposeConfigHash] = compose::config_hash(s);
    l[labels::kComposeWorkingDir] = p.working_dir.string();
    l[labels::kComposeConfigFiles] = p.file.string();
    l[labels::kComposeVersion] = labels::kComposeVersionValue;
    l[labels::kComposeImage] = image_id;
  }
  if (is_kernel_service(s)) {
    l[labels::kKernel] = "true";
    l[labels::kKernelId] = who.spawned() ? who.kernel_id : container_name(p, s, who.number);
    // What `list` shows: the language the kernel is started with, the config mounted for it.
    l[labels::kLanguage] = kernel_language(s);
    l[labels::kConfig] = kernel_config(s);
    l[labels::kOwner] = who.owner;
  }
  return l;
}

std::vector<std::string> extra_networks(const compose::Project& p, const compose::Service& s) {
  std::vector<std::string> out;
  bool first = true;
  for (const auto& [key, attachment] : s.networks) {
    if (!first) out.push_back(p.networks.at(key).name);
    first = false;
  }
  return out;
}

nlohmann::json create_body(const compose::Project& p, const compose::Service& s, const ReplicaIdentity& who,
                           const std::string& image_id) {
  nlohmann::json labels = container_labels(p, s, who, image_id);
  nlohmann::json body = {{"Image", s.image}, {"Labels", labels}};
  if (s.command) body["Cmd"] = *s.command;
  if (s.entrypoint) body["Entrypoint"] = *s.entrypoint;
  if (!s.user.empty()) body["User"] = s.user;
  if (!s.working_dir.empty()) body["WorkingDir"] = s.working_dir;
  if (!s.stop_signal.empty()) body["StopSignal"] = s.stop_signal;
  if (s.stop_grace_period_ns) body["StopTimeout"] = *s.stop_grace_period_ns / 1'000'000'000;
  nlohmann::json env = nlohmann::json::array();
  for (const auto& [k, v] : s.environment) env.push_back(k + "=" + v);
  // The kernel names itself as the fleet knows it (kernel_info, its logs).
  if (labels.contains(labels::kKernelId) && !s.environment.count("KERNEL_ID"))
    env.push_back("KERNEL_ID=" + labels[labels::kKernelId].get<std::string>());
  if (!env.empty()) body["Env"] = env;

  nlohmann::json exposed = nlohmann::json::object(), bindings = nlohmann::json::object();
  for (std::size_t i = 0; i < s.ports.size(); ++i) {
    const auto& port = s.ports[i];
    std::string key = port_key(port.container_port, port.protocol);
    exposed[key] = nlohmann::json::object();
    // A spawned kernel's ports are a block the fleet chose for it; otherwise the file's, or the
    // engine's pick ("").
    int host_port = port.host_port;
    if (!host_port && who.host_port) host_port = who.host_port + static_cast<int>(i);
    bindings[key].push_back(
        {{"HostIp", port.host_ip}, {"HostPort", host_port ? std::to_string(host_port) : std::string()}});
  }
  for (const auto& e : s.expose) exposed[e] = nlohmann::json::object();
  if (!exposed.empty()) body["ExposedPorts"] = exposed;

  if (s.healthcheck) {
    nlohmann::json h = {{"Test", s.healthcheck->test}};
    if (s.healthcheck->interval_ns) h["Interval"] = *s.healthcheck->interval_ns;
    if (s.healthcheck->timeout_ns) h["Timeout"] = *s.healthcheck->timeout_ns;
    if (s.healthcheck->start_period_ns) h["StartPeriod"] = *s.healthcheck->start_period_ns;
    if (s.healthcheck->retries) h["Retries"] = *s.healthcheck->retries;
    body["Healthcheck"] = h;
  }

  nlohmann::json host = {{"RestartPolicy", restart_policy(s.restart)}};
  if (s.mem_limit) host["Memory"] = *s.mem_limit;
  if (s.memswap_limit) host["MemorySwap"] = *s.memswap_limit;
  if (s.mem_reservation) host["MemoryReservation"] = *s.mem_reservation;
  if (s.cpus) host["NanoCpus"] = static_cast<std::int64_t>(*s.cpus * 1e9 + 0.5);
  if (s.cpu_shares) host["CpuShares"] = *s.cpu_shares;
  if (s.pids_limit) host["PidsLimit"] = *s.pids_limit;
  if (!s.cap_add.empty()) host["CapAdd"] = s.cap_add;
  if (!s.cap_drop.empty()) host["CapDrop"] = s.cap_drop;
  if (!s.security_opt.empty()) host["SecurityOpt"] = s.security_opt;
  if (s.read_only) host["ReadonlyRootfs"] = true;
  if (s.privileged) host["Privileged"] = true;
  if (!s.pid.empty()) host["PidMode"] = s.pid;
  if (!s.ipc.empty()) host["IpcMode"] = s.ipc;
  if (!bindings.empty()) host["PortBindings"] = bindings;
  if (s.logging) host["LogConfig"] = {{"Type", s.logging->driver}, {"Config", s.logging->options}};

  nlohmann::json binds = nlohmann::json::array(), tmpfs = nlohmann::json::object(),
                 anonymous = nlohmann::json::object();
  for (const auto& v : s.volumes) {
    if (v.type == "tmpfs") {
      tmpfs[v.target] = "";
    } else if (v.type == "volume" && v.source.empty()) {
      anonymous[v.target] = nlohmann::json::object();
    } else {
      std::string source = v.type == "volume" ? p.volumes.at(v.source).name : v.source;
      binds.push_back(source + ":" + v.target + (v.read_only ? ":ro" : ":rw"));
    }
  }
  for (const auto& t : s.tmpfs) {
    auto colon = t.find(':');
    tmpfs[t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
  }
  if (!binds.empty()) host["Binds"] = binds;
  if (!tmpfs.empty()) host["Tmpfs"] = tmpfs;
  if (!anonymous.empty()) body["Volumes"] = anonymous;

  if (!s.network_mode.empty()) {
    host["NetworkMode"] = s.network_mode;
  } else if (!s.networks.empty()) {
    const auto& [key, attachment] = *s.networks.begin();
    std::string network = p.networks.at(key).name;
    host["NetworkMode"] = network;
    nlohmann::json all_aliases = attachment.aliases;
    all_aliases.push_back(s.name);  // other services reach it by service name
    body["NetworkingConfig"] = {{"EndpointsConfig", {{network, {{"Aliases", all_aliases}}}}}};
  }
  body["HostConfig"] = host;
  return body;
}

}  // namespace fleet
