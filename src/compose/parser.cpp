// Tree -> model. Each key of the compose spec that the fleet supports has one reader here; any
// other key is an error, so a typo never silently does nothing.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include "compose/error.hpp"
#include "compose/loader.hpp"
#include "compose/suggest.hpp"
#include "compose/yaml_tree.hpp"
#include "util/durations.hpp"
#include "util/units.hpp"

namespace fleet::compose {

std::string normalize_project_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isalnum(static_cast<unsigned char>(l)) || l == '_' || l == '-') out += l;
  }
  while (!out.empty() && (out.front() == '_' || out.front() == '-')) out.erase(0, 1);
  return out;
}

std::vector<std::string> shell_split(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == quote)
        quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < text.size())
        word += text[++i];
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) throw std::invalid_argument("unterminated quote");
  if (in_word) words.push_back(word);
  return words;
}

namespace {

using Kind = YamlNode::Kind;

// Every key of a service in the Compose Specification (compose v2).
const std::vector<std::string_view> kServiceKeys = {"annotations",
                                                    "attach",
                                                    "blkio_config",
                                                    "build",
                                                    "cap_add",
                                                    "cap_drop",
                                                    "cgroup",
                                                    "cgroup_parent",
                                                    "command",
                                                    "configs",
                                                    "container_name",
                                                    "cpu_count",
                                                    "cpu_percent",
                                                    "cpu_period",
                                                    "cpu_quota",
                                                    "cpu_rt_period",
                                                    "cpu_rt_runtime",
                                                    "cpu_shares",
                                                    "cpus",
                                                    "cpuset",
                                                    "credential_spec",
                                                    "depends_on",
                                                    "deploy",
                                                    "develop",
                                                    "device_cgroup_rules",
                                                    "devices",
                                                    "dns",
                                                    "dns_opt",
                                                    "dns_search",
                                                    "domainname",
                                                    "entrypoint",
                                                    "env_file",
                                                    "environment",
                                                    "expose",
                                                    "extends",
                                                    "external_links",
                                                    "extra_hosts",
                                                    "gpus",
                                                    "group_add",
                                                    "healthcheck",
                                                    "hostname",
                                                    "image",
                                                    "init",
                                                    "ipc",
                                                    "isolation",
                                                    "label_file",
                                                    "labels",
                                                    "links",
                                                    "logging",
                                                    "mac_address",
                                                    "mem_limit",
                                                    "mem_reservation",
                                                    "mem_swappiness",
                                                    "memswap_limit",
                                                    "network_mode",
                                                    "networks",
                                                    "oom_kill_disable",
                                                    "oom_score_adj",
                                                    "pid",
                                                    "pids_limit",
                                                    "platform",
                                                    "ports",
                                                    "post_start",
                                                    "pre_stop",
                                                    "privileged",
                                                    "profiles",
                                                    "pull_policy",
                                                    "read_only",
                                                    "restart",
                                                    "runtime",
                                                    "scale",
                                                    "secrets",
                                                    "security_opt",
                                                    "shm_size",
                                                    "stdin_open",
                                                    "stop_grace_period",
                                                    "stop_signal",
                                                    "storage_opt",
                                                    "sysctls",
                                                    "tmpfs",
                                                    "tty",
                                                    "ulimits",
                                                    "use_api_socket",
                                                    "user",
                                                    "userns_mode",
                                                    "uts",
                                                    "volumes",
                                                    "volumes_from",
                                                    "working_dir"};

// An env_file or label_file entry.
struct EnvFile {
  std::string path;
  bool required = true;
  int line = 0;
  bool raw = false;  // format: raw, lines taken as they are
};

class Parser {
 public:
  Parser(std::string file, const Environment& env, Project& project)
      : file_(std::move(file)), env_(env), project_(project) {}

  void parse(const YamlNode& root) {
    for (const auto& e : root.entries) {
      record(e.key, e.line);
      if (e.key == "services")
        parse_services(e.value);
      else if (e.key == "networks")
        parse_networks(e.value);
      else if (e.key == "volumes")
        parse_volumes(e.value);
      else if (e.key == "name")
        top_level_name_ = text(e.value, "name");
      else if (e.key == "version")
        text(e.value, "version");  // obsolete, accepted, no effect
      else if (e.key == "secrets")
        parse_file_objects(e.value, "secrets", project_.secrets);
      else if (e.key == "configs")
        parse_file_objects(e.value, "configs", project_.configs);
      else if (is_extension(e.key))
        project_.extensions[e.key] = to_plain_json(e.value, e.key);
      else {
        std::string near = nearest_key(
            e.key, {"services", "networks", "volumes", "secrets", "configs", "include", "name", "version"});
        fail(e.line, e.key,
             "unknown top-level key" + (near.empty()
                                            ? std::string(" (services, networks, volumes, secrets, configs, "
                                                          "include, name, version and x-* are)")
                                            : "; did you mean " + near + "?"));
      }
    }
    if (project_.services.empty()) fail(root.line, "services", "no services defined");
  }

  std::optional<std::string> top_level_name() const { return top_level_name_; }

 private:
  [[noreturn]] void fail(int line, const std::string& path, const std::string& message) const {
    throw ComposeError(file_, line, path, message);
  }
  [[noreturn]] void fail(const YamlNode& n, const std::string& path, const std::string& message) const {
    fail(n.line, path, message);
  }
  void record(const std::string& path, int line) { project_.lines.emplace(path, line); }
  static bool is_extension(const std::string& key) { return key.rfind("x-", 0) == 0; }

  // --- scalars -------------------------------------------------------------------------------
  std::string text(const YamlNode& n, const std::string& path) const {
    if (!n.is_scalar()) fail(n, path, "must be a single value, not " + describe(n));
    if (n.interpolated) return n.scalar;
    try {
      return interpolate(n.scalar, env_);
    } catch (const std::invalid_argument& e) {
      fail(n, path, e.what());
    }
  }
  std::string text_or_empty(const YamlNode& n, const std::string& path) const {
    return n.is_null() ? std::string() : text(n, path);
  }
  long long integer(const YamlNode& n, const std::string& path, long long min = 0) const {
    std::string s = text(n, path);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end || errno) fail(n, path, "\"" + s + "\" is not a whole number");
    if (v < min) fail(n, path, std::to_string(v) + " is below the minimum " + std::to_string(min));
    return v;
  }
  double number(const YamlNode& n, const std::string& path) const {
    std::string s = text(n, path);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end || !std::isfinite(v)) fail(n, path, "\"" + s + "\" is not a number");
    return v;
  }
  bool boolean(const YamlNode& n, const std::string& path) const {
    std::string s = text(n, path);
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    fail(n, path, "\"" + s + "\" is not true or false");
  }
  std::int64_t size(const YamlNode& n, const std::string& path) const {
    std::string s = text(n, path);
    auto v = util::parse_size(s);
    if (!v) fail(n, path, "\"" + s + "\" is not a size (like 512m, 2g, 1024k)");
    return *v;
  }
  std::int64_t duration(const YamlNode& n, const std::string& path) const {
    std::string s = text(n, path);
    auto v = util::parse_duration(s);
    if (!v) fail(n, path, "\"" + s + "\" is not a duration (like 30s, 1m30s, 500ms)");
    return *v;
  }
  double cpus(const YamlNode& n, const std::string& path) const {
    std::string s = text(n, path);
    auto dot = s.find('.');
    if (dot != std::string::npos && s.size() - dot - 1 > 9)
      fail(n, path, "\"" + s + "\" has more than 9 decimals");
    double v = number(n, path);
    if (v <= 0) fail(n, path, "\"" + s + "\" CPUs: must be more than 0");
    return v;
  }
  static std::string describe(const YamlNode& n) {
    switch (n.kind) {
      case Kind::Mapping:
        return "a mapping";
      case Kind::Sequence:
        return "a list";
      case Kind::Null:
        return "empty";
      case Kind::Scalar:
        return "a value";
    }
    return "?";
  }

  // --- compound values ----------------------------------------------------------------------
  const std::vector<YamlNode::Entry>& mapping(const YamlNode& n, const std::string& path) const {
    if (!n.is_map()) fail(n, path, "must be a mapping, not " + describe(n));
    return n.entries;
  }
  std::vector<std::string> strings(const YamlNode& n, const std::string& path) const {
    std::vector<std::string> out;
    if (!n.is_seq()) fail(n, path, "must be a list, not " + describe(n));
    for (std::size_t i = 0; i < n.items.size(); ++i)
      out.push_back(text(n.items[i], path + "[" + std::to_string(i) + "]"));
    return out;
  }
  std::vector<std::string> string_or_list(const YamlNode& n, const std::string& path) const {
    return n.is_scalar() ? std::vector<std::string>{text(n, path)} : strings(n, path);
  }
  // A command or entrypoint: a list, or a string split as a shell would.
  std::vector<std::string> command(const YamlNode& n, const std::string& path) const {
    if (n.is_seq()) return strings(n, path);
    try {
      return shell_split(text(n, path));
    } catch (const std::invalid_argument& e) {
      fail(n, path, e.what());
    }
  }
  // environment, labels, args: a mapping (null values allowed) or a list of KEY=VALUE / KEY.
  std::map<std::string, std::string> key_values(const YamlNode& n, const std::string& path,
                                                bool lookup_bare) const {
    std::map<std::string, std::string> out;
    if (n.is_map()) {
      for (const auto& e : n.entries) {
        if (e.value.is_null()) {
          if (auto v = env_.get(e.key); v && lookup_bare) out[e.key] = *v;
        } else {
          out[e.key] = text(e.value, path + "." + e.key);
        }
      }
    } else if (n.is_seq()) {
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        std::string item = text(n.items[i], path + "[" + std::to_string(i) + "]");
        auto eq = item.find('=');
        if (eq == 0) fail(n.items[i], path, "\"" + item + "\" has no name before =");
        if (eq == std::string::npos) {
          if (auto v = env_.get(item); v && lookup_bare) out[item] = *v;
        } else {
          out[item.substr(0, eq)] = item.substr(eq + 1);
        }
      }
    } else if (!n.is_null()) {
      fail(n, path, "must be a mapping or a list of KEY=VALUE");
    }
    return out;
  }
  nlohmann::json to_plain_json(const YamlNode& n, const std::string& path) const {
    switch (n.kind) {
      case Kind::Null:
        return nullptr;
      case Kind::Scalar: {
        std::string s = text(n, path);
        if (!n.quoted) {
          if (s == "true" || s == "false") return s == "true";
          char* end = nullptr;
          long long i = std::strtoll(s.c_str(), &end, 10);
          if (!s.empty() && !*end) return i;
          double d = std::strtod(s.c_str(), &end);
          if (!s.empty() && !*end) return d;
        }
        return s;
      }
      case Kind::Sequence: {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& item : n.items) a.push_back(to_plain_json(item, path));
        return a;
      }
      case Kind::Mapping: {
        nlohmann::json o = nlohmann::json::object();
        for (const auto& e : n.entries) o[e.key] = to_plain_json(e.value, path + "." + e.key);
        return o;
      }
    }
    return nullptr;
  }
  std::filesystem::path host_path(const std::string& p) const {
    std::filesystem::path out = p;
    if (p == "~" || p.rfind("~/", 0) == 0) {
      const char* home = std::getenv("HOME");
      out = std::filesystem::path(home ? home : "/") / p.substr(std::min<std::size_t>(p.size(), 2));
    } else if (out.is_relative()) {
      out = project_.working_dir / out;
    }
    return out.lexically_normal();
  }

  // --- top level ----------------------------------------------------------------------------
  void parse_services(const YamlNode& n) {
    for (const auto& e : mapping(n, "services")) {
      std::string path = "services." + e.key;
      record(path, e.line);
      if (e.key.empty() || !std::all_of(e.key.begin(), e.key.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
          }))
        fail(e.line, path, "a service name may use letters, digits, '-', '_' and '.'");
      Service s;
      s.name = e.key;
      if (e.value.is_null()) fail(e.line, path, "a service needs at least an image or a build");
      parse_service(e.value, path, s);
      project_.services.emplace(e.key, std::move(s));
    }
  }

  // The fields networks and volumes share; `own` reads the ones only one of them has.
  template <typename Def>
  void parse_definitions(const YamlNode& n, const std::string& section, std::map<std::string, Def>& out,
                         const std::function<bool(const YamlNode::Entry&, const std::string&, Def&)>& own,
                         const std::vector<std::string_view>& known) {
    if (n.is_null()) return;
    for (const auto& e : mapping(n, section)) {
      std::string path = section + "." + e.key;
      record(path, e.line);
      Def d;
      if (!e.value.is_null())
        for (const auto& f : mapping(e.value, path)) {
          std::string p = path + "." + f.key;
          record(p, f.line);
          if (f.key == "driver")
            d.driver = text(f.value, p);
          else if (f.key == "external") {
            // The old form external: {name: NAME} names the existing resource.
            if (f.value.is_map()) {
              d.external = true;
              for (const auto& x : f.value.entries)
                if (x.key == "name")
                  d.name = text(x.value, p + ".name");
                else
                  fail(x.line, p + "." + x.key, unknown_key_message(x.key, {"name"}));
            } else {
              d.external = boolean(f.value, p);
            }
          } else if (f.key == "name")
            d.name = text(f.value, p);
          else if (f.key == "labels")
            d.labels = key_values(f.value, p, false);
          else if (f.key == "driver_opts")
            d.driver_opts = key_values(f.value, p, false);
          else if (is_extension(f.key))
            to_plain_json(f.value, p);
          else if (!own(f, p, d))
            fail(f.line, p, unknown_key_message(f.key, known));
        }
      out[e.key] = d;
    }
  }

  void parse_networks(const YamlNode& n) {
    parse_definitions<NetworkDef>(n, "networks", project_.networks,
                                  [&](const YamlNode::Entry& f, const std::string& p, NetworkDef& d) {
                                    if (f.key == "internal")
                                      d.internal = boolean(f.value, p);
                                    else if (f.key == "attachable")
                                      d.attachable = boolean(f.value, p);
                                    else if (f.key == "enable_ipv6")
                                      d.enable_ipv6 = boolean(f.value, p);
                                    else if (f.key == "enable_ipv4")
                                      d.enable_ipv4 = boolean(f.value, p);
                                    else if (f.key == "ipam")
                                      d.ipam = ipam(f.value, p);
                                    else
                                      return false;
                                    return true;
                                  },
                                  {"driver", "driver_opts", "external", "internal", "attachable",
                                   "enable_ipv4", "enable_ipv6", "ipam", "name", "labels"});
  }

  void parse_volumes(const YamlNode& n) {
    parse_definitions<VolumeDef>(n, "volumes", project_.volumes,
                                 [](const YamlNode::Entry&, const std::string&, VolumeDef&) { return false; },
                                 {"driver", "driver_opts", "external", "name", "labels"});
  }

  NetworkDef::Ipam ipam(const YamlNode& n, const std::string& path) const {
    NetworkDef::Ipam out;
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      if (e.key == "driver")
        out.driver = text(e.value, p);
      else if (e.key == "options")
        out.options = key_values(e.value, p, false);
      else if (e.key == "config") {
        if (!e.value.is_seq()) fail(e.value, p, "must be a list of pools");
        for (std::size_t i = 0; i < e.value.items.size(); ++i) {
          std::string q = p + "[" + std::to_string(i) + "]";
          NetworkDef::Pool pool;
          for (const auto& f : mapping(e.value.items[i], q)) {
            std::string r = q + "." + f.key;
            if (f.key == "subnet")
              pool.subnet = cidr(f.value, r);
            else if (f.key == "ip_range")
              pool.ip_range = cidr(f.value, r);
            else if (f.key == "gateway")
              pool.gateway = text(f.value, r);
            else if (f.key == "aux_addresses")
              pool.aux_addresses = key_values(f.value, r, false);
            else
              fail(f.line, r, unknown_key_message(f.key, {"subnet", "ip_range", "gateway", "aux_addresses"}));
          }
          out.config.push_back(pool);
        }
      } else if (is_extension(e.key))
        to_plain_json(e.value, p);
      else
        fail(e.line, p, unknown_key_message(e.key, {"driver", "config", "options"}));
    }
    return out;
  }
  // ADDRESS/BITS, checked only for its shape: the engine judges the address.
  std::string cidr(const YamlNode& n, const std::string& path) const {
    std::string v = text(n, path);
    auto slash = v.find('/');
    std::string bits = slash == std::string::npos ? "" : v.substr(slash + 1);
    if (slash == 0 || bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), ::isdigit) ||
        std::stoi(bits) > 128)
      fail(n, path, "\"" + v + "\" is not a subnet in CIDR form (like 172.28.0.0/16)");
    return v;
  }

  // --- a service ----------------------------------------------------------------------------
  void parse_service(const YamlNode& n, const std::string& path, Service& s) {
    std::optional<int> scale, deploy_replicas;
    std::optional<double> limit_cpus;
    std::optional<std::int64_t> limit_memory, limit_pids, reservation_memory;
    std::optional<std::string> deploy_restart;
    std::vector<EnvFile> env_files, label_files;
    std::map<std::string, std::string> environment;
    int scale_line = 0, api_socket_line = 0;
    for (const auto& e : mapping(n, path)) {
      const std::string p = path + "." + e.key;
      const YamlNode& v = e.value;
      record(p, e.line);
      const std::string& k = e.key;
      if (k == "image")
        s.image = text(v, p);
      else if (k == "build")
        s.build = build(v, p);
      else if (k == "command")
        s.command = command(v, p);
      else if (k == "entrypoint")
        s.entrypoint = command(v, p);
      else if (k == "container_name")
        s.container_name = text(v, p);
      else if (k == "ports")
        s.ports = ports(v, p);
      else if (k == "expose")
        s.expose = expose(v, p);
      else if (k == "volumes")
        s.volumes = volumes(v, p);
      else if (k == "environment")
        environment = key_values(v, p, true);
      else if (k == "env_file")
        env_files = paths_list(v, p);
      else if (k == "labels")
        s.labels = key_values(v, p, false);
      else if (k == "mem_limit")
        s.mem_limit = size(v, p);
      else if (k == "mem_reservation")
        s.mem_reservation = size(v, p);
      else if (k == "memswap_limit")
        s.memswap_limit = v.is_scalar() && v.scalar == "-1" ? -1 : size(v, p);
      else if (k == "cpus")
        s.cpus = cpus(v, p);
      else if (k == "cpu_shares")
        s.cpu_shares = integer(v, p, 2);
      else if (k == "pids_limit")
        s.pids_limit = integer(v, p, -1);
      else if (k == "scale") {
        scale = static_cast<int>(integer(v, p, 0));
        scale_line = e.line;
      } else if (k == "deploy") {
        deploy(v, p, deploy_replicas, limit_cpus, limit_memory, limit_pids, reservation_memory,
               deploy_restart, s.device_requests, s.swarm);
      } else if (k == "healthcheck")
        s.healthcheck = healthcheck(v, p);
      else if (k == "restart")
        s.restart = restart(v, p);
      else if (k == "networks")
        s.networks = service_networks(v, p);
      else if (k == "depends_on")
        s.depends_on = depends_on(v, p);
      else if (k == "profiles")
        s.profiles = strings(v, p);
      else if (k == "user")
        s.user = text(v, p);
      else if (k == "working_dir")
        s.working_dir = text(v, p);
      else if (k == "read_only")
        s.read_only = boolean(v, p);
      else if (k == "cap_add")
        s.cap_add = strings(v, p);
      else if (k == "cap_drop")
        s.cap_drop = strings(v, p);
      else if (k == "security_opt")
        s.security_opt = strings(v, p);
      else if (k == "stop_grace_period")
        s.stop_grace_period_ns = duration(v, p);
      else if (k == "stop_signal")
        s.stop_signal = text(v, p);
      else if (k == "logging")
        s.logging = logging(v, p);
      else if (k == "tmpfs")
        s.tmpfs = string_or_list(v, p);
      else if (k == "privileged")
        s.privileged = boolean(v, p);
      else if (k == "network_mode")
        s.network_mode = text(v, p);
      else if (k == "pid")
        s.pid = text(v, p);
      else if (k == "ipc")
        s.ipc = text(v, p);
      else if (k == "init")
        s.init = boolean(v, p);
      else if (k == "tty")
        s.tty = boolean(v, p);
      else if (k == "stdin_open")
        s.stdin_open = boolean(v, p);
      else if (k == "oom_kill_disable")
        s.oom_kill_disable = boolean(v, p);
      else if (k == "attach")
        s.attach = boolean(v, p);
      else if (k == "hostname")
        s.hostname = text(v, p);
      else if (k == "domainname")
        s.domainname = text(v, p);
      else if (k == "runtime")
        s.runtime = text(v, p);
      else if (k == "cgroup_parent")
        s.cgroup_parent = text(v, p);
      else if (k == "cgroup")
        s.cgroup = one_of(v, p, {"host", "private"});
      else if (k == "mac_address")
        s.mac_address = mac_address(v, p);
      else if (k == "platform")
        s.platform = platform(v, p);
      else if (k == "isolation")
        s.isolation = text(v, p);
      else if (k == "userns_mode")
        s.userns_mode = text(v, p);
      else if (k == "uts")
        s.uts = one_of(v, p, {"host"});
      else if (k == "pull_policy")
        s.pull_policy = pull_policy(v, p);
      else if (k == "dns")
        s.dns = string_or_list(v, p);
      else if (k == "dns_search")
        s.dns_search = string_or_list(v, p);
      else if (k == "dns_opt")
        s.dns_opt = strings(v, p);
      else if (k == "extra_hosts")
        s.extra_hosts = extra_hosts(v, p);
      else if (k == "group_add")
        s.group_add = strings(v, p);
      else if (k == "links")
        s.links = strings(v, p);
      else if (k == "external_links")
        s.external_links = strings(v, p);
      else if (k == "volumes_from")
        s.volumes_from = strings(v, p);
      else if (k == "device_cgroup_rules")
        s.device_cgroup_rules = strings(v, p);
      else if (k == "devices")
        s.devices = devices(v, p);
      else if (k == "ulimits")
        s.ulimits = ulimits(v, p);
      else if (k == "sysctls")
        s.sysctls = key_values(v, p, false);
      else if (k == "storage_opt")
        s.storage_opt = key_values(v, p, false);
      else if (k == "annotations")
        s.annotations = key_values(v, p, false);
      else if (k == "shm_size")
        s.shm_size = size(v, p);
      else if (k == "cpu_period")
        s.cpu_period = integer(v, p, 0);
      else if (k == "cpu_quota")
        s.cpu_quota = integer(v, p, -1);
      else if (k == "cpu_rt_period")
        s.cpu_rt_period = microseconds(v, p);
      else if (k == "cpu_rt_runtime")
        s.cpu_rt_runtime = microseconds(v, p);
      else if (k == "cpu_count")
        s.cpu_count = integer(v, p, 0);
      else if (k == "cpu_percent")
        s.cpu_percent = static_cast<int>(between(v, p, 0, 100));
      else if (k == "oom_score_adj")
        s.oom_score_adj = static_cast<int>(between(v, p, -1000, 1000));
      else if (k == "mem_swappiness")
        s.mem_swappiness = static_cast<int>(between(v, p, 0, 100));
      else if (k == "cpuset")
        s.cpuset = text(v, p);
      else if (k == "blkio_config")
        s.blkio = blkio(v, p);
      else if (k == "secrets")
        s.secrets = grants(v, p, "/run/secrets/");
      else if (k == "configs")
        s.configs = grants(v, p, "/");
      else if (k == "post_start")
        s.post_start = hooks(v, p);
      else if (k == "pre_stop")
        s.pre_stop = hooks(v, p);
      else if (k == "gpus")
        gpus(v, p, s.device_requests);
      else if (k == "label_file")
        label_files = paths_list(v, p);
      else if (k == "use_api_socket") {
        if (boolean(v, p)) api_socket_line = e.line;
      } else if (k == "credential_spec") {
        to_plain_json(v, p);
        note(p, "is for Windows containers; ignored");
      } else if (k == "develop") {
        mapping(v, p);
        to_plain_json(v, p);
        note(p, "(compose watch) is not run by the fleet; ignored");
      } else if (k == "extends")
        to_plain_json(v, p);  // resolved before (composition.hpp)
      else if (is_extension(k))
        s.extensions[k] = to_plain_json(v, p);
      else
        fail(e.line, p, unknown_key_message(k, kServiceKeys, false));
    }
    if (api_socket_line) {
      if (!s.allows_unsafe())
        fail(api_socket_line, path + ".use_api_socket",
             "the Docker socket is refused for fleet services (x-fleet: {allow_unsafe: true} allows it)");
      s.volumes.push_back(
          {.type = "bind", .source = "/var/run/docker.sock", .target = "/var/run/docker.sock"});
    }
    // env_file first, environment over it (as compose does); label_file under labels likewise.
    read_env_files(env_files, path + ".env_file", s.environment);
    for (auto& [key, value] : environment) s.environment[key] = value;
    std::map<std::string, std::string> file_labels;
    read_env_files(label_files, path + ".label_file", file_labels);
    for (auto& [key, value] : file_labels) s.labels.emplace(key, value);

    // The same setting given twice must agree.
    auto agree = [&](const char* what, auto a, auto b, const std::string& key) {
      if (a && b && *a != *b)
        fail(project_.line_of(path + "." + key), path + "." + key,
             std::string(what) + " is set twice with different values (" + key + " and deploy.resources)");
    };
    agree("cpus", s.cpus, limit_cpus, "cpus");
    agree("the memory limit", s.mem_limit, limit_memory, "mem_limit");
    agree("the pids limit", s.pids_limit, limit_pids, "pids_limit");
    if (scale && deploy_replicas && *scale != *deploy_replicas)
      fail(scale_line, path + ".scale",
           "scale (" + std::to_string(*scale) + ") and deploy.replicas (" + std::to_string(*deploy_replicas) +
               ") disagree");
    if (!s.cpus) s.cpus = limit_cpus;
    if (!s.mem_limit) s.mem_limit = limit_memory;
    if (!s.pids_limit) s.pids_limit = limit_pids;
    if (!s.mem_reservation) s.mem_reservation = reservation_memory;
    if (s.restart.empty() && deploy_restart) s.restart = *deploy_restart;
    s.replicas = scale ? scale : deploy_replicas;
    if (!s.container_name.empty() && s.replica_count() > 1)
      fail(project_.line_of(path + ".container_name"), path + ".container_name",
           "a fixed container_name allows one replica, not " + std::to_string(s.replica_count()));
    if (s.image.empty() && !s.build) fail(project_.line_of(path), path, "has neither image nor build");
  }

  BuildSpec build(const YamlNode& n, const std::string& path) {
    BuildSpec b;
    if (n.is_scalar()) {
      b.context = host_path(text(n, path));
      return b;
    }
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      if (e.key == "context")
        b.context = host_path(text(e.value, p));
      else if (e.key == "dockerfile")
        b.dockerfile = text(e.value, p);
      else if (e.key == "dockerfile_inline")
        b.dockerfile_inline = text(e.value, p);
      else if (e.key == "args")
        b.args = key_values(e.value, p, true);
      else if (e.key == "labels")
        b.labels = key_values(e.value, p, false);
      else if (e.key == "target")
        b.target = text(e.value, p);
      else if (e.key == "network")
        b.network = text(e.value, p);
      else if (e.key == "shm_size")
        b.shm_size = size(e.value, p);
      else if (e.key == "cache_from")
        b.cache_from = strings(e.value, p);
      else if (e.key == "extra_hosts")
        b.extra_hosts = extra_hosts(e.value, p);
      else if (e.key == "tags")
        b.tags = strings(e.value, p);
      else if (e.key == "no_cache")
        b.no_cache = boolean(e.value, p);
      else if (e.key == "pull")
        b.pull = boolean(e.value, p);
      else if (e.key == "platforms" || e.key == "ssh" || e.key == "additional_contexts" ||
               e.key == "secrets" || e.key == "cache_to" || e.key == "entitlements" ||
               e.key == "privileged" || e.key == "ulimits" || e.key == "provenance" || e.key == "sbom" ||
               e.key == "isolation" || e.key == "platform" || e.key == "network_mode") {
        to_plain_json(e.value, p);
        b.unsupported.push_back(p);
      } else if (is_extension(e.key))
        to_plain_json(e.value, p);
      else
        fail(e.line, p,
             unknown_key_message(e.key, {"context",
                                         "dockerfile",
                                         "dockerfile_inline",
                                         "args",
                                         "labels",
                                         "target",
                                         "network",
                                         "shm_size",
                                         "cache_from",
                                         "cache_to",
                                         "extra_hosts",
                                         "tags",
                                         "no_cache",
                                         "pull",
                                         "platforms",
                                         "ssh",
                                         "additional_contexts",
                                         "secrets",
                                         "entitlements",
                                         "privileged",
                                         "ulimits",
                                         "provenance",
                                         "sbom",
                                         "isolation"}));
    }
    if (b.context.empty()) b.context = project_.working_dir;  // compose's default: the project folder
    if (!b.dockerfile_inline.empty() && n.find("dockerfile"))
      fail(n, path, "dockerfile and dockerfile_inline exclude each other");
    return b;
  }

  static std::optional<std::pair<int, int>> port_range(const std::string& s) {
    auto dash = s.find('-');
    auto num = [](const std::string& t) -> int {
      if (t.empty() || t.size() > 5 || !std::all_of(t.begin(), t.end(), ::isdigit)) return -1;
      int v = std::stoi(t);
      return v >= 1 && v <= 65535 ? v : -1;
    };
    int a = num(s.substr(0, dash));
    int b = dash == std::string::npos ? a : num(s.substr(dash + 1));
    if (a < 0 || b < 0 || b < a) return std::nullopt;
    return std::make_pair(a, b);
  }

  std::vector<PortSpec> ports(const YamlNode& n, const std::string& path) const {
    std::vector<PortSpec> out;
    if (!n.is_seq()) fail(n, path, "must be a list");
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      const YamlNode& item = n.items[i];
      std::string p = path + "[" + std::to_string(i) + "]";
      if (item.is_map()) {
        PortSpec port;
        for (const auto& e : item.entries) {
          std::string q = p + "." + e.key;
          if (e.key == "target")
            port.container_port = static_cast<int>(integer(e.value, q, 1));
          else if (e.key == "published") {
            std::string published = text(e.value, q);
            auto range = port_range(published);
            if (!range) fail(e.value, q, "\"" + published + "\" is not a port from 1 to 65535");
            port.host_port = range->first;  // of a range, its first port
          } else if (e.key == "host_ip")
            port.host_ip = text(e.value, q);
          else if (e.key == "protocol")
            port.protocol = text(e.value, q);
          else if (e.key == "mode")
            one_of(e.value, q, {"host", "ingress"});
          else if (e.key == "name" || e.key == "app_protocol")
            text(e.value, q);
          else
            fail(e.line, q,
                 unknown_key_message(
                     e.key, {"target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"}));
        }
        if (port.container_port < 1 || port.container_port > 65535 || port.host_port > 65535)
          fail(item, p, "needs a target port from 1 to 65535");
        out.push_back(port);
        continue;
      }
      std::string spec = text(item, p);
      std::string protocol = "tcp";
      if (auto slash = spec.find('/'); slash != std::string::npos) {
        protocol = spec.substr(slash + 1);
        spec = spec.substr(0, slash);
      }
      if (protocol != "tcp" && protocol != "udp" && protocol != "sctp")
        fail(item, p, "unknown protocol \"" + protocol + "\"");
      std::string ip;
      if (!spec.empty() && spec.front() == '[') {  // [IPv6]:host:container
        auto close = spec.find(']');
        if (close == std::string::npos || close + 1 >= spec.size() || spec[close + 1] != ':')
          fail(item, p, "\"" + text(item, p) + "\" is not a port mapping");
        ip = spec.substr(1, close - 1);
        spec = spec.substr(close + 2);
      }
      std::vector<std::string> parts;
      std::stringstream ss(spec);
      for (std::string part; std::getline(ss, part, ':');) parts.push_back(part);
      if (!spec.empty() && spec.back() == ':') parts.push_back("");
      if (parts.empty() || parts.size() > 3 || (!ip.empty() && parts.size() != 2))
        fail(item, p, "\"" + text(item, p) + "\" is not [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]");
      if (parts.size() == 3) ip = parts[0];
      auto container = port_range(parts.back());
      if (!container) fail(item, p, "\"" + parts.back() + "\" is not a port or range from 1 to 65535");
      std::optional<std::pair<int, int>> host;
      if (parts.size() >= 2 && !parts[parts.size() - 2].empty()) {
        host = port_range(parts[parts.size() - 2]);
        if (!host)
          fail(item, p, "\"" + parts[parts.size() - 2] + "\" is not a port or range from 1 to 65535");
        if (host->second - host->first != container->second - container->first)
          fail(item, p, "the host and container port ranges differ in length");
      }
      for (int k = 0; k <= container->second - container->first; ++k)
        out.push_back({ip, host ? host->first + k : 0, container->first + k, protocol});
    }
    return out;
  }

  std::vector<std::string> expose(const YamlNode& n, const std::string& path) const {
    std::vector<std::string> out;
    for (const auto& s : strings(n, path)) {
      std::string port = s, protocol = "tcp";
      if (auto slash = s.find('/'); slash != std::string::npos) {
        port = s.substr(0, slash);
        protocol = s.substr(slash + 1);
      }
      auto range = port_range(port);
      if (!range) fail(n, path, "\"" + s + "\" is not a port or range");
      for (int p = range->first; p <= range->second; ++p) out.push_back(std::to_string(p) + "/" + protocol);
    }
    return out;
  }

  std::vector<VolumeMount> volumes(const YamlNode& n, const std::string& path) const {
    std::vector<VolumeMount> out;
    if (!n.is_seq()) fail(n, path, "must be a list");
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      const YamlNode& item = n.items[i];
      std::string p = path + "[" + std::to_string(i) + "]";
      VolumeMount m;
      int subpath_line = 0;
      if (item.is_map()) {
        for (const auto& e : item.entries) {
          std::string q = p + "." + e.key;
          if (e.key == "type")
            m.type = text(e.value, q);
          else if (e.key == "source")
            m.source = text(e.value, q);
          else if (e.key == "target")
            m.target = text(e.value, q);
          else if (e.key == "read_only")
            m.read_only = boolean(e.value, q);
          else if (e.key == "bind")
            for (const auto& f : mapping(e.value, q)) {
              std::string r = q + "." + f.key;
              if (f.key == "propagation")
                m.propagation =
                    one_of(f.value, r, {"private", "rprivate", "shared", "rshared", "slave", "rslave"});
              else if (f.key == "create_host_path")
                m.create_host_path = boolean(f.value, r);
              else if (f.key == "selinux")
                m.selinux = one_of(f.value, r, {"z", "Z"});
              else
                fail(f.line, r, unknown_key_message(f.key, {"propagation", "create_host_path", "selinux"}));
            }
          else if (e.key == "volume")
            for (const auto& f : mapping(e.value, q)) {
              std::string r = q + "." + f.key;
              if (f.key == "nocopy")
                m.nocopy = boolean(f.value, r);
              else if (f.key == "subpath")
                subpath_line = f.line;
              else if (f.key == "labels")
                key_values(f.value, r, false);
              else
                fail(f.line, r, unknown_key_message(f.key, {"nocopy", "subpath", "labels"}));
            }
          else if (e.key == "tmpfs")
            for (const auto& f : mapping(e.value, q)) {
              std::string r = q + "." + f.key;
              if (f.key == "size")
                m.tmpfs_size = size(f.value, r);
              else if (f.key == "mode")
                m.tmpfs_mode = file_mode(f.value, r);
              else
                fail(f.line, r, unknown_key_message(f.key, {"size", "mode"}));
            }
          else if (e.key == "consistency")
            text(e.value, q);  // macOS file sharing only
          else
            fail(e.line, q,
                 unknown_key_message(e.key, {"type", "source", "target", "read_only", "bind", "volume",
                                             "tmpfs", "consistency"}));
        }
        if (m.type != "bind" && m.type != "volume" && m.type != "tmpfs")
          fail(item, p,
               "type must be bind, volume or tmpfs (\"" + m.type + "\" is not one the fleet mounts)");
        if (subpath_line)
          fail(subpath_line, p + ".volume.subpath", "needs Engine API 1.45; this engine's is older");
        if (m.type == "bind") m.source = host_path(m.source).string();
      } else {
        std::string spec = text(item, p);
        std::vector<std::string> parts;
        std::stringstream ss(spec);
        for (std::string part; std::getline(ss, part, ':');) parts.push_back(part);
        // An empty source (a variable that is not set) leaves an anonymous volume, as compose reads it.
        if (parts.empty() || parts.size() > 3 ||
            std::any_of(parts.begin() + 1, parts.end(), [](auto& s) { return s.empty(); }) ||
            (parts.size() == 1 && parts[0].empty()))
          fail(item, p, "\"" + spec + "\" is not [SOURCE:]TARGET[:MODE]");
        if (parts[0].empty()) {
          parts.erase(parts.begin());
          m = {.type = "volume", .target = parts[0]};
          if (parts.size() == 2 && parts[1] == "ro") m.read_only = true;
        } else if (parts.size() == 1) {
          m = {"volume", "", parts[0], false};
        } else {
          bool path_like = parts[0].front() == '.' || parts[0].front() == '/' || parts[0].front() == '~';
          m.type = path_like ? "bind" : "volume";
          m.source = path_like ? host_path(parts[0]).string() : parts[0];
          m.target = parts[1];
          if (parts.size() == 3) {
            std::stringstream modes(parts[2]);
            for (std::string mode; std::getline(modes, mode, ',');) {
              if (mode == "ro")
                m.read_only = true;
              else if (mode == "z" || mode == "Z")
                m.selinux = mode;
              else if (mode == "nocopy")
                m.nocopy = true;
              else if (mode == "private" || mode == "rprivate" || mode == "shared" || mode == "rshared" ||
                       mode == "slave" || mode == "rslave")
                m.propagation = mode;
              else if (mode != "rw" && mode != "cached" && mode != "delegated" && mode != "consistent")
                fail(item, p, "unknown volume mode \"" + mode + "\"");
            }
          }
        }
      }
      if (m.target.empty() || m.target.front() != '/')
        fail(item, p, "the target must be an absolute path in the container");
      out.push_back(m);
    }
    return out;
  }

  Healthcheck healthcheck(const YamlNode& n, const std::string& path) const {
    Healthcheck h;
    bool disable = false;
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      if (e.key == "test") {
        if (e.value.is_scalar()) {
          h.test = {"CMD-SHELL", text(e.value, p)};
        } else {
          h.test = strings(e.value, p);
          if (h.test.empty()) fail(e.value, p, "is empty");
          const std::string& kind = h.test.front();
          if (kind != "CMD" && kind != "CMD-SHELL" && kind != "NONE")
            fail(e.value, p, "must start with CMD, CMD-SHELL or NONE, not \"" + kind + "\"");
          if ((kind == "NONE") != (h.test.size() == 1))
            fail(e.value, p,
                 kind == "NONE" ? "NONE takes nothing after it" : kind + " needs a command after it");
        }
      } else if (e.key == "interval")
        h.interval_ns = duration(e.value, p);
      else if (e.key == "timeout")
        h.timeout_ns = duration(e.value, p);
      else if (e.key == "start_period")
        h.start_period_ns = duration(e.value, p);
      else if (e.key == "start_interval")
        h.start_interval_ns = duration(e.value, p);
      else if (e.key == "retries")
        h.retries = static_cast<int>(integer(e.value, p, 0));
      else if (e.key == "disable")
        disable = boolean(e.value, p);
      else
        fail(e.line, p,
             unknown_key_message(e.key, {"test", "interval", "timeout", "start_period", "start_interval",
                                         "retries", "disable"}));
    }
    // Without a test the image's own test runs, with these timings.
    if (disable) h.test = {"NONE"};
    return h;
  }

  std::string restart(const YamlNode& n, const std::string& path) const {
    std::string r = text(n, path);
    if (r == "no" || r == "always" || r == "unless-stopped" || r == "on-failure") return r;
    if (r.rfind("on-failure:", 0) == 0) {
      std::string count = r.substr(11);
      if (!count.empty() && count.size() <= 9 && std::all_of(count.begin(), count.end(), ::isdigit)) return r;
    }
    fail(n, path, "\"" + r + "\" is not no, always, on-failure[:N] or unless-stopped");
  }

  std::map<std::string, NetworkAttachment> service_networks(const YamlNode& n,
                                                            const std::string& path) const {
    std::map<std::string, NetworkAttachment> out;
    if (n.is_seq()) {
      for (const auto& name : strings(n, path)) out[name] = {};
      return out;
    }
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      out[e.key] = {};
      if (e.value.is_null()) continue;
      NetworkAttachment& a = out[e.key];
      for (const auto& f : mapping(e.value, p)) {
        std::string q = p + "." + f.key;
        if (f.key == "aliases")
          a.aliases = strings(f.value, q);
        else if (f.key == "ipv4_address")
          a.ipv4_address = text(f.value, q);
        else if (f.key == "ipv6_address")
          a.ipv6_address = text(f.value, q);
        else if (f.key == "mac_address")
          a.mac_address = mac_address(f.value, q);
        else if (f.key == "link_local_ips")
          a.link_local_ips = strings(f.value, q);
        else if (f.key == "driver_opts")
          a.driver_opts = key_values(f.value, q, false);
        else if (f.key == "priority")
          a.priority = static_cast<int>(integer(f.value, q, std::numeric_limits<int>::min()));
        else if (f.key == "gw_priority" || f.key == "interface_name") {
          text(f.value, q);
          note(q, "needs a newer engine (API 1.48/1.49) than the fleet drives; ignored");
        } else
          fail(f.line, q,
               unknown_key_message(
                   f.key, {"aliases", "ipv4_address", "ipv6_address", "mac_address", "link_local_ips",
                           "driver_opts", "priority", "gw_priority", "interface_name"}));
      }
    }
    return out;
  }

  std::map<std::string, Dependency> depends_on(const YamlNode& n, const std::string& path) const {
    std::map<std::string, Dependency> out;
    if (n.is_seq()) {
      for (const auto& name : strings(n, path)) out[name] = {};
      return out;
    }
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      Dependency d;
      for (const auto& f : mapping(e.value, p)) {
        std::string q = p + "." + f.key;
        if (f.key == "condition") {
          d.condition = text(f.value, q);
          if (d.condition != "service_started" && d.condition != "service_healthy" &&
              d.condition != "service_completed_successfully")
            fail(f.value, q,
                 "\"" + d.condition +
                     "\" is not service_started, service_healthy or service_completed_successfully");
        } else if (f.key == "required")
          d.required = boolean(f.value, q);
        else if (f.key == "restart")
          d.restart = boolean(f.value, q);
        else
          fail(f.line, q, unknown_key_message(f.key, {"condition", "required", "restart"}));
      }
      out[e.key] = d;
    }
    return out;
  }

  Logging logging(const YamlNode& n, const std::string& path) const {
    Logging l;
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      if (e.key == "driver")
        l.driver = text(e.value, p);
      else if (e.key == "options")
        l.options = key_values(e.value, p, false);
      else
        fail(e.line, p, unknown_key_message(e.key, {"driver", "options"}));
    }
    return l;
  }

  void deploy(const YamlNode& n, const std::string& path, std::optional<int>& replicas,
              std::optional<double>& cpus_limit, std::optional<std::int64_t>& memory,
              std::optional<std::int64_t>& pids, std::optional<std::int64_t>& reservation,
              std::optional<std::string>& restart_policy, std::vector<DeviceRequest>& device_requests,
              SwarmDeploy& swarm) {
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      if (e.key == "replicas") {
        replicas = static_cast<int>(integer(e.value, p, 0));
      } else if (e.key == "resources") {
        for (const auto& r : mapping(e.value, p)) {
          std::string q = p + "." + r.key;
          if (r.key != "limits" && r.key != "reservations")
            fail(r.line, q, "unknown key (limits, reservations are)");
          for (const auto& f : mapping(r.value, q)) {
            std::string k = q + "." + f.key;
            if (f.key == "cpus") {
              double v = cpus(f.value, k);
              if (r.key == "limits")
                cpus_limit = v;
              else
                swarm.cpus_reservation = v;  // no engine field outside swarm
            } else if (f.key == "memory") {
              (r.key == "limits" ? memory : reservation) = size(f.value, k);
            } else if (f.key == "pids" && r.key == "limits") {
              pids = integer(f.value, k, -1);
            } else if (f.key == "devices" && r.key == "reservations") {
              if (!f.value.is_seq()) fail(f.value, k, "must be a list of device requests");
              for (std::size_t i = 0; i < f.value.items.size(); ++i) {
                DeviceRequest d = device_request(f.value.items[i], k + "[" + std::to_string(i) + "]");
                if (d.capabilities.empty()) fail(f.value.items[i], k, "needs capabilities (like [gpu])");
                device_requests.push_back(d);
              }
            } else if (f.key == "generic_resources" && r.key == "reservations") {
              to_plain_json(f.value, k);
              note(k, "is for swarm; ignored");
            } else {
              fail(f.line, k,
                   unknown_key_message(f.key, r.key == "limits"
                                                  ? std::vector<std::string_view>{"cpus", "memory", "pids"}
                                                  : std::vector<std::string_view>{"cpus", "memory", "devices",
                                                                                  "generic_resources"}));
            }
          }
        }
      } else if (e.key == "restart_policy") {
        std::string condition = "any";
        std::optional<long long> attempts;
        SwarmRestartPolicy policy;
        for (const auto& f : mapping(e.value, p)) {
          std::string q = p + "." + f.key;
          if (f.key == "condition")
            condition = text(f.value, q);
          else if (f.key == "max_attempts")
            policy.max_attempts = attempts = between(f.value, q, 0, 999'999'999);
          else if (f.key == "delay")
            policy.delay_ns = duration(f.value, q);
          else if (f.key == "window")
            policy.window_ns = duration(f.value, q);
          else
            fail(f.line, q, unknown_key_message(f.key, {"condition", "max_attempts", "delay", "window"}));
        }
        if (condition == "none")
          restart_policy = "no";
        else if (condition == "on-failure")
          restart_policy = attempts ? "on-failure:" + std::to_string(*attempts) : "on-failure";
        else if (condition == "any")
          restart_policy = "always";
        else
          fail(e.value, p + ".condition", "\"" + condition + "\" is not none, on-failure or any");
        policy.condition = condition;
        swarm.restart_policy = policy;
      } else if (e.key == "mode") {
        swarm.mode = one_of(e.value, p, {"replicated", "global", "replicated-job", "global-job"});
        if (swarm.mode != "replicated")
          note(p, "\"" + swarm.mode + "\" is for swarm; the service runs as replicated");
      } else if (e.key == "labels") {
        swarm.labels = key_values(e.value, p, false);
        note(p, "is for swarm; ignored");
      } else if (e.key == "placement") {
        placement(e.value, p, swarm);
        note(p, "is for swarm; ignored");
      } else if (e.key == "update_config" || e.key == "rollback_config") {
        (e.key == "update_config" ? swarm.update_config : swarm.rollback_config) =
            update_config(e.value, p, e.key == "update_config");
        note(p, "is for swarm; ignored");
      } else if (e.key == "endpoint_mode") {
        swarm.endpoint_mode = one_of(e.value, p, {"vip", "dnsrr"});
        note(p, "is for swarm; ignored");
      } else {
        fail(e.line, p,
             unknown_key_message(e.key, {"mode", "replicas", "labels", "resources", "restart_policy",
                                         "placement", "update_config", "rollback_config", "endpoint_mode"}));
      }
    }
  }

  void placement(const YamlNode& n, const std::string& path, SwarmDeploy& swarm) const {
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      if (e.key == "constraints") {
        swarm.constraints = strings(e.value, p);
        for (std::size_t i = 0; i < swarm.constraints.size(); ++i)
          if (swarm.constraints[i].find("==") == std::string::npos &&
              swarm.constraints[i].find("!=") == std::string::npos)
            fail(e.value.items[i], p, "\"" + swarm.constraints[i] + "\" is not KEY==VALUE or KEY!=VALUE");
      } else if (e.key == "preferences") {
        if (!e.value.is_seq()) fail(e.value, p, "must be a list of {spread: DESCRIPTOR}");
        for (std::size_t i = 0; i < e.value.items.size(); ++i) {
          const std::string q = p + "[" + std::to_string(i) + "]";
          for (const auto& f : mapping(e.value.items[i], q)) {
            if (f.key != "spread") fail(f.line, q + "." + f.key, "unknown key (spread is)");
            swarm.preferences.push_back(text(f.value, q + ".spread"));
          }
        }
      } else if (e.key == "max_replicas_per_node") {
        swarm.max_replicas_per_node = integer(e.value, p, 0);
      } else {
        fail(e.line, p, unknown_key_message(e.key, {"constraints", "preferences", "max_replicas_per_node"}));
      }
    }
  }

  SwarmUpdateConfig update_config(const YamlNode& n, const std::string& path, bool update) const {
    SwarmUpdateConfig c;
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      if (e.key == "parallelism")
        c.parallelism = integer(e.value, p, 0);
      else if (e.key == "delay")
        c.delay_ns = duration(e.value, p);
      else if (e.key == "monitor")
        c.monitor_ns = duration(e.value, p);
      else if (e.key == "failure_action")
        c.failure_action = update ? one_of(e.value, p, {"continue", "pause", "rollback"})
                                  : one_of(e.value, p, {"continue", "pause"});
      else if (e.key == "max_failure_ratio") {
        c.max_failure_ratio = number(e.value, p);
        if (*c.max_failure_ratio < 0 || *c.max_failure_ratio > 1) fail(e.value, p, "must be between 0 and 1");
      } else if (e.key == "order")
        c.order = one_of(e.value, p, {"stop-first", "start-first"});
      else
        fail(e.line, p,
             unknown_key_message(
                 e.key, {"parallelism", "delay", "monitor", "failure_action", "max_failure_ratio", "order"}));
    }
    return c;
  }

  // --- settings added with the whole specification -----------------------------------------
  void note(const std::string& path, const std::string& message) const {
    std::string line = path + " " + message;
    if (std::find(project_.notes.begin(), project_.notes.end(), line) == project_.notes.end())
      project_.notes.push_back(line);
  }
  std::string one_of(const YamlNode& n, const std::string& path,
                     std::initializer_list<const char*> allowed) const {
    std::string v = text(n, path);
    std::string list;
    for (const char* a : allowed) {
      if (v == a) return v;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    fail(n, path, "\"" + v + "\" is not one of " + list);
  }
  long long between(const YamlNode& n, const std::string& path, long long lo, long long hi) const {
    long long v = integer(n, path, lo);
    if (v > hi) fail(n, path, std::to_string(v) + " is above the maximum " + std::to_string(hi));
    return v;
  }
  std::string mac_address(const YamlNode& n, const std::string& path) const {
    std::string v = text(n, path);
    bool ok = v.size() == 17;
    for (std::size_t i = 0; ok && i < v.size(); ++i)
      ok = i % 3 == 2 ? (v[i] == ':' || v[i] == '-') : std::isxdigit(static_cast<unsigned char>(v[i])) != 0;
    if (!ok) fail(n, path, "\"" + v + "\" is not a MAC address (like 02:42:ac:11:00:02)");
    return v;
  }
  std::string platform(const YamlNode& n, const std::string& path) const {
    std::string v = text(n, path);
    if (v.empty() || v.find('/') == std::string::npos)
      fail(n, path, "\"" + v + "\" is not a platform (os/arch[/variant], like linux/amd64)");
    return v;
  }
  std::string pull_policy(const YamlNode& n, const std::string& path) const {
    std::string v = text(n, path);
    if (v == "always" || v == "never" || v == "missing" || v == "if_not_present" || v == "build" ||
        v == "daily" || v == "weekly")
      return v;
    if (v.rfind("every_", 0) == 0 && util::parse_duration(v.substr(6))) return v;
    fail(n, path, "\"" + v + "\" is not always, never, missing, build, daily, weekly or every_<duration>");
  }
  // Microseconds, as a number or a duration ("400ms").
  std::int64_t microseconds(const YamlNode& n, const std::string& path) const {
    std::string v = text(n, path);
    if (!v.empty() && std::all_of(v.begin(), v.end(), ::isdigit)) return integer(n, path, 0);
    return duration(n, path) / 1000;
  }
  // "host:ip", "host=ip" or a mapping host: ip (or a list of ips); as "host:ip" for the engine.
  std::vector<std::string> extra_hosts(const YamlNode& n, const std::string& path) const {
    std::vector<std::string> out;
    auto add = [&](const std::string& host, const std::string& ip, const YamlNode& at) {
      if (host.empty() || ip.empty()) fail(at, path, "\"" + host + "\" needs a host name and an address");
      std::string address =
          ip.size() > 2 && ip.front() == '[' && ip.back() == ']' ? ip.substr(1, ip.size() - 2) : ip;
      out.push_back(host + ":" + address);
    };
    if (n.is_map()) {
      for (const auto& e : n.entries)
        for (const auto& ip : string_or_list(e.value, path + "." + e.key)) add(e.key, ip, e.value);
      return out;
    }
    for (const auto& item : strings(n, path)) {
      auto sep = item.find('=');
      if (sep == std::string::npos) sep = item.find(':');
      if (sep == std::string::npos) fail(n, path, "\"" + item + "\" is not HOST:IP or HOST=IP");
      add(item.substr(0, sep), item.substr(sep + 1), n);
    }
    return out;
  }
  std::vector<DeviceMapping> devices(const YamlNode& n, const std::string& path) const {
    std::vector<DeviceMapping> out;
    if (!n.is_seq()) fail(n, path, "must be a list");
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      const YamlNode& item = n.items[i];
      std::string p = path + "[" + std::to_string(i) + "]";
      DeviceMapping d;
      if (item.is_map()) {
        for (const auto& e : item.entries) {
          if (e.key == "source")
            d.host = text(e.value, p + ".source");
          else if (e.key == "target")
            d.container = text(e.value, p + ".target");
          else if (e.key == "permissions")
            d.permissions = text(e.value, p + ".permissions");
          else
            fail(e.line, p + "." + e.key, unknown_key_message(e.key, {"source", "target", "permissions"}));
        }
      } else {
        std::vector<std::string> parts;
        std::stringstream ss(text(item, p));
        for (std::string part; std::getline(ss, part, ':');) parts.push_back(part);
        if (parts.empty() || parts.size() > 3)
          fail(item, p, "is not HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]]");
        d.host = parts[0];
        d.container = parts.size() > 1 ? parts[1] : parts[0];
        if (parts.size() > 2) d.permissions = parts[2];
      }
      if (d.container.empty()) d.container = d.host;
      if (d.host.empty() || d.host.front() != '/') fail(item, p, "the device must be an absolute host path");
      if (d.permissions.find_first_not_of("rwm") != std::string::npos)
        fail(item, p, "permissions \"" + d.permissions + "\" are letters of rwm");
      out.push_back(d);
    }
    return out;
  }
  std::vector<Ulimit> ulimits(const YamlNode& n, const std::string& path) const {
    std::vector<Ulimit> out;
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      Ulimit u{.name = e.key};
      if (e.value.is_map()) {
        std::optional<long long> soft, hard;
        for (const auto& f : e.value.entries) {
          if (f.key == "soft")
            soft = integer(f.value, p + ".soft", -1);
          else if (f.key == "hard")
            hard = integer(f.value, p + ".hard", -1);
          else
            fail(f.line, p + "." + f.key, unknown_key_message(f.key, {"soft", "hard"}));
        }
        if (!soft || !hard) fail(e.value, p, "needs both soft and hard");
        if (*hard != -1 && (*soft == -1 || *soft > *hard))
          fail(e.value, p,
               "the soft limit " + std::to_string(*soft) + " is above the hard limit " +
                   std::to_string(*hard));
        u.soft = *soft;
        u.hard = *hard;
      } else {
        u.soft = u.hard = integer(e.value, p, -1);
      }
      out.push_back(u);
    }
    return out;
  }
  BlkioConfig blkio(const YamlNode& n, const std::string& path) const {
    BlkioConfig b;
    auto rates = [&](const YamlNode& list, const std::string& p, bool bytes) {
      std::vector<std::pair<std::string, std::int64_t>> out;
      if (!list.is_seq()) fail(list, p, "must be a list of {path, rate}");
      for (const auto& item : list.items) {
        std::string device;
        std::optional<std::int64_t> rate;
        for (const auto& e : mapping(item, p)) {
          if (e.key == "path")
            device = text(e.value, p + ".path");
          else if (e.key == "rate")
            rate = bytes ? size(e.value, p + ".rate") : integer(e.value, p + ".rate", 0);
          else
            fail(e.line, p + "." + e.key, unknown_key_message(e.key, {"path", "rate"}));
        }
        if (device.empty() || !rate) fail(item, p, "needs a path and a rate");
        out.emplace_back(device, *rate);
      }
      return out;
    };
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      if (e.key == "weight")
        b.weight = static_cast<int>(between(e.value, p, 10, 1000));
      else if (e.key == "weight_device") {
        if (!e.value.is_seq()) fail(e.value, p, "must be a list of {path, weight}");
        for (const auto& item : e.value.items) {
          std::string device;
          std::optional<int> weight;
          for (const auto& f : mapping(item, p)) {
            if (f.key == "path")
              device = text(f.value, p + ".path");
            else if (f.key == "weight")
              weight = static_cast<int>(between(f.value, p + ".weight", 10, 1000));
            else
              fail(f.line, p + "." + f.key, unknown_key_message(f.key, {"path", "weight"}));
          }
          if (device.empty() || !weight) fail(item, p, "needs a path and a weight");
          b.weight_device.emplace_back(device, *weight);
        }
      } else if (e.key == "device_read_bps")
        b.read_bps = rates(e.value, p, true);
      else if (e.key == "device_write_bps")
        b.write_bps = rates(e.value, p, true);
      else if (e.key == "device_read_iops")
        b.read_iops = rates(e.value, p, false);
      else if (e.key == "device_write_iops")
        b.write_iops = rates(e.value, p, false);
      else
        fail(e.line, p,
             unknown_key_message(e.key, {"weight", "weight_device", "device_read_bps", "device_write_bps",
                                         "device_read_iops", "device_write_iops"}));
    }
    return b;
  }
  // A service's secrets or configs: names, or {source, target, uid, gid, mode}.
  std::vector<FileGrant> grants(const YamlNode& n, const std::string& path, const std::string& base) const {
    std::vector<FileGrant> out;
    if (!n.is_seq()) fail(n, path, "must be a list");
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      const YamlNode& item = n.items[i];
      std::string p = path + "[" + std::to_string(i) + "]";
      FileGrant g;
      if (item.is_map()) {
        for (const auto& e : item.entries) {
          std::string q = p + "." + e.key;
          if (e.key == "source")
            g.source = text(e.value, q);
          else if (e.key == "target")
            g.target = text(e.value, q);
          else if (e.key == "uid")
            g.uid = text(e.value, q);
          else if (e.key == "gid")
            g.gid = text(e.value, q);
          else if (e.key == "mode")
            g.mode = file_mode(e.value, q);
          else
            fail(e.line, q, unknown_key_message(e.key, {"source", "target", "uid", "gid", "mode"}));
        }
      } else {
        g.source = text(item, p);
      }
      if (g.source.empty()) fail(item, p, "needs a source");
      if (g.target.empty()) g.target = g.source;
      if (g.target.front() != '/') g.target = base + g.target;
      out.push_back(g);
    }
    return out;
  }
  int file_mode(const YamlNode& n, const std::string& path) const {
    std::string v = text(n, path);
    int base = 10;
    std::string digits = v;
    if (v.rfind("0o", 0) == 0 || v.rfind("0O", 0) == 0) {
      digits = v.substr(2);
      base = 8;
    } else if (v.size() > 1 && v.front() == '0') {
      base = 8;  // YAML 1.1 octal, as compose reads 0440
    }
    char* end = nullptr;
    long m = std::strtol(digits.c_str(), &end, base);
    if (digits.empty() || *end || m < 0 || m > 07777)
      fail(n, path, "\"" + v + "\" is not a file mode (like 0440)");
    return static_cast<int>(m);
  }
  std::vector<Hook> hooks(const YamlNode& n, const std::string& path) const {
    std::vector<Hook> out;
    if (!n.is_seq()) fail(n, path, "must be a list of {command, user, privileged, working_dir, environment}");
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      Hook h;
      for (const auto& e : mapping(n.items[i], p)) {
        std::string q = p + "." + e.key;
        if (e.key == "command")
          h.command = command(e.value, q);
        else if (e.key == "user")
          h.user = text(e.value, q);
        else if (e.key == "privileged")
          h.privileged = boolean(e.value, q);
        else if (e.key == "working_dir")
          h.working_dir = text(e.value, q);
        else if (e.key == "environment")
          h.environment = key_values(e.value, q, true);
        else
          fail(e.line, q,
               unknown_key_message(e.key, {"command", "user", "privileged", "working_dir", "environment"}));
      }
      if (h.command.empty()) fail(n.items[i], p, "needs a command");
      out.push_back(h);
    }
    return out;
  }
  DeviceRequest device_request(const YamlNode& n, const std::string& path) const {
    DeviceRequest d;
    for (const auto& e : mapping(n, path)) {
      std::string p = path + "." + e.key;
      if (e.key == "driver")
        d.driver = text(e.value, p);
      else if (e.key == "count")
        d.count =
            e.value.is_scalar() && e.value.scalar == "all" ? -1 : static_cast<int>(integer(e.value, p, 0));
      else if (e.key == "device_ids")
        d.device_ids = strings(e.value, p);
      else if (e.key == "capabilities")
        d.capabilities = strings(e.value, p);
      else if (e.key == "options")
        d.options = key_values(e.value, p, false);
      else
        fail(e.line, p,
             unknown_key_message(e.key, {"driver", "count", "device_ids", "capabilities", "options"}));
    }
    if (d.count && !d.device_ids.empty()) fail(n, path, "count and device_ids exclude each other");
    return d;
  }
  void gpus(const YamlNode& n, const std::string& path, std::vector<DeviceRequest>& out) const {
    if (n.is_scalar()) {
      if (text(n, path) != "all") fail(n, path, "must be all or a list of device requests");
      out.push_back({.count = -1, .capabilities = {"gpu"}});
      return;
    }
    if (!n.is_seq()) fail(n, path, "must be all or a list of device requests");
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      DeviceRequest d = device_request(n.items[i], path + "[" + std::to_string(i) + "]");
      if (d.capabilities.empty()) d.capabilities = {"gpu"};
      out.push_back(d);
    }
  }
  // env_file / label_file: a path, a list of paths, or a list of {path, required, format}.
  std::vector<EnvFile> paths_list(const YamlNode& n, const std::string& path) const {
    std::vector<EnvFile> out;
    if (n.is_scalar()) return {{text(n, path), true, n.line}};
    if (!n.is_seq()) fail(n, path, "must be a file or a list of files");
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      const YamlNode& item = n.items[i];
      std::string p = path + "[" + std::to_string(i) + "]";
      if (!item.is_map()) {
        out.push_back({text(item, p), true, item.line});
        continue;
      }
      EnvFile f{.line = item.line};
      for (const auto& e : item.entries) {
        if (e.key == "path")
          f.path = text(e.value, p + ".path");
        else if (e.key == "required")
          f.required = boolean(e.value, p + ".required");
        else if (e.key == "format") {
          std::string format = text(e.value, p + ".format");
          if (format != "raw")
            fail(e.value, p + ".format", "\"" + format + "\" is not a format the fleet reads (raw, or none)");
          f.raw = true;
        } else
          fail(e.line, p + "." + e.key, unknown_key_message(e.key, {"path", "required", "format"}));
      }
      if (f.path.empty()) fail(item, p, "needs a path");
      out.push_back(f);
    }
    return out;
  }
  void read_env_files(const std::vector<EnvFile>& files, const std::string& path,
                      std::map<std::string, std::string>& out) const {
    for (const auto& f : files) {
      auto file = host_path(f.path);
      std::ifstream in(file);
      if (!in) {
        if (!f.required) continue;
        fail(f.line, path, "cannot read " + file.string());
      }
      std::stringstream body;
      body << in.rdbuf();
      try {
        if (f.raw) {
          std::istringstream lines(body.str());
          for (std::string line; std::getline(lines, line);)
            if (auto eq = line.find('='); eq != std::string::npos && eq > 0)
              out[line.substr(0, eq)] = line.substr(eq + 1);
        } else {
          for (auto& [key, value] : parse_dotenv(body.str())) out[key] = value;
        }
      } catch (const std::exception& ex) {
        fail(f.line, path, file.string() + ": " + ex.what());
      }
    }
  }

  // Top-level secrets and configs.
  void parse_file_objects(const YamlNode& n, const std::string& section,
                          std::map<std::string, FileObjectDef>& out) {
    if (n.is_null()) return;
    const bool configs = section == "configs";
    for (const auto& e : mapping(n, section)) {
      std::string path = section + "." + e.key;
      record(path, e.line);
      FileObjectDef d;
      for (const auto& f : mapping(e.value, path)) {
        std::string p = path + "." + f.key;
        record(p, f.line);
        if (f.key == "file")
          d.file = host_path(text(f.value, p));
        else if (f.key == "environment")
          d.environment = text(f.value, p);
        else if (f.key == "content" && configs)
          d.content = text(f.value, p);
        else if (f.key == "external")
          d.external = f.value.is_map() ? true : boolean(f.value, p);
        else if (f.key == "name")
          d.name = text(f.value, p);
        else if (f.key == "labels")
          key_values(f.value, p, false);
        else if (f.key == "driver" || f.key == "driver_opts" || f.key == "template_driver") {
          to_plain_json(f.value, p);
          note(p, "is for swarm; ignored");
        } else if (is_extension(f.key))
          to_plain_json(f.value, p);
        else
          fail(
              f.line, p,
              unknown_key_message(
                  f.key,
                  configs ? std::vector<std::string_view>{"file", "environment", "content", "external",
                                                          "name", "labels", "template_driver"}
                          : std::vector<std::string_view>{"file", "environment", "external", "name", "labels",
                                                          "driver", "driver_opts", "template_driver"}));
      }
      int sources = !d.file.empty() + !d.environment.empty() + d.content.has_value() + d.external;
      if (sources != 1)
        fail(e.line, path,
             std::string("needs exactly one of file, environment") + (configs ? ", content" : "") +
                 " or external");
      // An unset variable is an error only where the secret is placed (`up`), as compose does.
      if (!d.environment.empty()) d.environment_value = env_.get(d.environment);
      if (d.name.empty()) d.name = e.key;
      out[e.key] = d;
    }
  }

  std::string file_;
  const Environment& env_;
  Project& project_;
  std::optional<std::string> top_level_name_;
};

}  // namespace

namespace detail {
// Parses the tree into `project` and returns the top-level name, if any.
std::optional<std::string> parse_tree(const YamlNode& root, const std::string& file, const Environment& env,
                                      Project& project) {
  Parser parser(file, env, project);
  parser.parse(root);
  return parser.top_level_name();
}
}  // namespace detail

}  // namespace fleet::compose
