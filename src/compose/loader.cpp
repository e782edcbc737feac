#include "compose/loader.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "compose/composition.hpp"
#include "compose/error.hpp"
#include "compose/yaml_tree.hpp"

namespace fleet::compose {

namespace detail {
std::optional<std::string> parse_tree(const YamlNode& root, const std::string& file, const Environment& env,
                                      Project& project);
}

namespace {

// The fleet's own labels (src/fleet/labels.hpp) live under this prefix; a compose file may not set them.
constexpr const char* kReservedLabelPrefix = "dev.llmspell.fleet.";

bool valid_project_name(const std::string& name) {
  return !name.empty() && normalize_project_name(name) == name;
}

std::string choose_project_name(const Project& p, const Environment& env,
                                const std::optional<std::string>& flag,
                                const std::optional<std::string>& top_level, const std::string& file) {
  auto check = [&](const std::string& name, const std::string& from) {
    if (!valid_project_name(name))
      throw ComposeError(
          file, from == "name" ? p.line_of("name") : 0, from == "name" ? "name" : "",
          "project name \"" + name + "\" (from " + from +
              ") must be lower-case letters, digits, '-' and '_', starting with a letter or digit");
    return name;
  };
  if (flag) return check(*flag, "-p");
  if (auto v = env.get("COMPOSE_PROJECT_NAME"); v && !v->empty()) return check(*v, "COMPOSE_PROJECT_NAME");
  if (top_level) return check(*top_level, "name");
  std::string folder = normalize_project_name(p.working_dir.filename().string());
  if (folder.empty())
    throw ComposeError(file, 0, "", "cannot derive a project name from the folder: use -p NAME");
  return folder;
}

// The settings that put a service in another's namespace: "host", "service:NAME" or "container:NAME".
const std::pair<const char*, std::string Service::*> kNamespaceModes[] = {
    {"network_mode", &Service::network_mode}, {"pid", &Service::pid}, {"ipc", &Service::ipc}};

// What a bind gives away of the host: "" when nothing the fleet refuses.
std::string host_bind(const VolumeMount& v) {
  if (v.type != "bind") return "";
  if (v.source == "/") return "binding the host's / ";
  if (v.source.find("docker.sock") != std::string::npos) return "binding the Docker socket";
  return "";
}

// What a kernel must never get from a compose file unless the operator says so (x-fleet.allow_unsafe).
void refuse_unsafe(const Project& p, const Service& s, const std::string& file) {
  if (s.allows_unsafe()) return;
  std::string base = "services." + s.name;
  auto refuse = [&](const std::string& key, const std::string& what) {
    throw ComposeError(file, p.line_of(base + "." + key), base + "." + key,
                       what + " is refused for fleet services (x-fleet: {allow_unsafe: true} allows it)");
  };
  if (s.privileged) refuse("privileged", "privileged mode");
  if (s.network_mode == "host") refuse("network_mode", "the host network");
  if (s.pid == "host") refuse("pid", "the host PID namespace");
  if (s.ipc == "host") refuse("ipc", "the host IPC namespace");
  if (s.uts == "host") refuse("uts", "the host UTS namespace");
  if (s.userns_mode == "host") refuse("userns_mode", "the host user namespace");
  if (s.cgroup == "host") refuse("cgroup", "the host cgroup namespace");
  if (!s.devices.empty()) refuse("devices", "a host device");
  if (!s.device_cgroup_rules.empty()) refuse("device_cgroup_rules", "a device cgroup rule");
  for (const auto& [key, hooks] :
       {std::pair{"post_start", &Service::post_start}, {"pre_stop", &Service::pre_stop}})
    for (const auto& hook : s.*hooks)
      if (hook.privileged) refuse(key, std::string("a privileged ") + key + " hook");
  for (const auto& cap : s.cap_add) {
    // The engine reads capabilities in any case, with or without CAP_.
    std::string name = cap;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
    if (name.rfind("CAP_", 0) == 0) name = name.substr(4);
    if (name == "ALL" || name == "SYS_ADMIN") refuse("cap_add", "cap_add " + cap);
  }
  for (const auto& v : s.volumes)
    if (auto what = host_bind(v); !what.empty()) refuse("volumes", what);
  // What another container has reaches this one through a shared namespace or its volumes: another
  // service's only when that one is safe, an arbitrary container's never.
  for (const auto& [key, member] : kNamespaceModes) {
    const std::string& mode = s.*member;
    if (mode.rfind("container:", 0) == 0) refuse(key, "joining another container's namespace (" + mode + ")");
    if (mode.rfind("service:", 0) != 0) continue;
    auto donor = p.services.find(mode.substr(8));
    if (donor == p.services.end()) continue;  // check_references names it
    if (donor->second.*member == "host")
      refuse(key, "sharing " + mode.substr(8) + "'s host " + key + " namespace");
  }
  for (const auto& from : s.volumes_from) {
    if (from.rfind("container:", 0) == 0)
      refuse("volumes_from", "another container's volumes (" + from + ")");
    auto donor = p.services.find(from.substr(0, from.find(':')));
    if (donor != p.services.end() && std::any_of(donor->second.volumes.begin(), donor->second.volumes.end(),
                                                 [](const VolumeMount& v) { return !host_bind(v).empty(); }))
      refuse("volumes_from",
             "the volumes of " + donor->first + ", which binds the host's / or the Docker socket,");
  }
}

// What a service names elsewhere in the file must exist: other services (links, volumes_from,
// service: modes) and the top-level secrets and configs.
void check_references(const Project& p, const Service& s, const std::string& file) {
  const std::string base = "services." + s.name;
  auto fail = [&](const std::string& key, const std::string& message) {
    throw ComposeError(file, p.line_of(base + "." + key), base + "." + key, message);
  };
  auto service = [&](const std::string& key, const std::string& name) {
    if (!p.services.count(name)) fail(key, "names service \"" + name + "\", which is not defined");
    if (name == s.name) fail(key, "names the service itself");
  };
  for (const auto& [key, member] : kNamespaceModes)
    if ((s.*member).rfind("service:", 0) == 0) service(key, (s.*member).substr(8));
  if (!s.network_mode.empty() && !s.networks.empty())
    fail("network_mode", "network_mode and networks exclude each other");
  for (const auto& link : s.links) service("links", link.substr(0, link.find(':')));
  for (const auto& from : s.volumes_from) {
    std::string source = from.rfind("container:", 0) == 0 ? "" : from.substr(0, from.find(':'));
    if (!source.empty()) service("volumes_from", source);
  }
  for (const auto& g : s.secrets)
    if (!p.secrets.count(g.source))
      fail("secrets", "secret \"" + g.source + "\" is not defined under the top-level secrets");
  for (const auto& g : s.configs)
    if (!p.configs.count(g.source))
      fail("configs", "config \"" + g.source + "\" is not defined under the top-level configs");
}

void validate(Project& p, const std::string& file) {
  for (auto& [name, s] : p.services) {
    std::string base = "services." + name;
    for (const auto& [dep, d] : s.depends_on)
      if (!p.services.count(dep))
        throw ComposeError(file, p.line_of(base + ".depends_on"), base + ".depends_on",
                           "service \"" + name + "\" depends on undefined service \"" + dep + "\"");
    check_references(p, s, file);
    if (s.networks.empty() && s.network_mode.empty()) s.networks["default"] = {};
    for (const auto& [net, attachment] : s.networks) {
      if (net == "default" && !p.networks.count("default")) p.networks["default"] = {};
      if (!p.networks.count(net))
        throw ComposeError(file, p.line_of(base + ".networks"), base + ".networks",
                           "network \"" + net + "\" is not defined under the top-level networks");
    }
    for (const auto& v : s.volumes)
      if (v.type == "volume" && !v.source.empty() && !p.volumes.count(v.source))
        throw ComposeError(file, p.line_of(base + ".volumes"), base + ".volumes",
                           "named volume \"" + v.source + "\" is not defined under the top-level volumes");
    refuse_unsafe(p, s, file);
    for (const auto& [key, value] : s.labels)
      if (key.rfind(kReservedLabelPrefix, 0) == 0)
        throw ComposeError(file, p.line_of(base + ".labels"), base + ".labels",
                           "label " + key + " uses the fleet's reserved prefix " + kReservedLabelPrefix);
  }
  // Dependency cycles: a depth-first walk that meets a service still on its path.
  std::map<std::string, int> state;  // 1 on the path, 2 done
  std::function<void(const std::string&, std::vector<std::string>&)> visit =
      [&](const std::string& name, std::vector<std::string>& path) {
        if (state[name] == 2) return;
        path.push_back(name);
        if (state[name] == 1) {
          std::string cycle;
          for (auto it = std::find(path.begin(), path.end(), name); it != path.end(); ++it)
            cycle += (cycle.empty() ? "" : " -> ") + *it;
          throw ComposeError(file, p.line_of("services." + name + ".depends_on"),
                             "services." + name + ".depends_on", "dependency cycle: " + cycle);
        }
        state[name] = 1;
        for (const auto& [dep, d] : p.services.at(name).depends_on) visit(dep, path);
        state[name] = 2;
        path.pop_back();
      };
  for (const auto& [name, s] : p.services) {
    std::vector<std::string> path;
    visit(name, path);
  }
  for (auto& [key, n] : p.networks)
    if (n.name.empty()) n.name = n.external ? key : p.name + "_" + key;
  for (auto& [key, v] : p.volumes)
    if (v.name.empty()) v.name = v.external ? key : p.name + "_" + key;
}

}  // namespace

void validate_included(const YamlNode& tree, const std::filesystem::path& file,
                       const std::filesystem::path& project_dir, const Environment& env) {
  const YamlNode* services = tree.find("services");
  if (!services || services->is_null()) return;  // a file of networks or volumes only is fine
  Project p;
  p.file = file;
  p.working_dir = project_dir;
  p.source_name = file.string();
  auto top_level = detail::parse_tree(tree, p.source_name, env, p);
  p.name = top_level.value_or("included");
  validate(p, p.source_name);
}

Project load_project_text(std::string_view yaml, const std::filesystem::path& file, const Environment& env,
                          std::optional<std::string> project_name) {
  std::string shown = file.string();
  YamlNode root = parse_yaml(yaml, shown);
  Project p;
  p.file = std::filesystem::absolute(file).lexically_normal();
  p.working_dir = p.file.parent_path();
  p.source_name = shown;
  resolve_composition(root, file, env, p.included);
  auto top_level = detail::parse_tree(root, shown, env, p);
  p.name = choose_project_name(p, env, project_name, top_level, shown);
  if (auto profiles = env.get("COMPOSE_PROFILES")) {
    std::stringstream list(*profiles);
    for (std::string item; std::getline(list, item, ',');) {
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty()) p.env_profiles.push_back(item);
    }
  }
  validate(p, shown);
  return p;
}

Project load_project(const LoadOptions& options) {
  std::ifstream in(options.file, std::ios::binary);
  if (!in) throw ComposeError(options.file.string(), 0, "", "cannot read the compose file");
  std::stringstream text;
  text << in.rdbuf();
  Environment env;
  try {
    env = Environment::load(options.file.parent_path() / ".env");
  } catch (const std::exception& e) {
    throw ComposeError((options.file.parent_path() / ".env").string(), 0, "", e.what());
  }
  return load_project_text(text.str(), options.file, env, options.project_name);
}

}  // namespace fleet::compose
