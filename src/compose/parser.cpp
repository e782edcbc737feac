// Tree -> model. Each key of the compose spec that the fleet supports has one reader here; any
// other key is an error, so a typo never silently does nothing.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "compose/error.hpp"
#include "compose/loader.hpp"
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
      else if (is_extension(e.key))
        project_.extensions[e.key] = to_plain_json(e.value, e.key);
      else
        fail(e.line, e.key, "unknown top-level key (services, networks, volumes, name, version and x-* are)");
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
                         const std::string& known) {
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
          else if (f.key == "external")
            d.external = boolean(f.value, p);
          else if (f.key == "name")
            d.name = text(f.value, p);
          else if (f.key == "labels")
            d.labels = key_values(f.value, p, false);
          else if (f.key == "driver_opts" || is_extension(f.key))
            to_plain_json(f.value, p);
          else if (!own(f, p, d))
            fail(f.line, p, "unknown key (" + known + " are)");
        }
      out[e.key] = d;
    }
  }

  void parse_networks(const YamlNode& n) {
    parse_definitions<NetworkDef>(
        n, "networks", project_.networks,
        [&](const YamlNode::Entry& f, const std::string& p, NetworkDef& d) {
          if (f.key == "internal")
            d.internal = boolean(f.value, p);
          else if (f.key == "attachable")
            d.attachable = boolean(f.value, p);
          else
            return false;
          return true;
        },
        "driver, external, internal, attachable, name, labels");
  }

  void parse_volumes(const YamlNode& n) {
    parse_definitions<VolumeDef>(
        n, "volumes", project_.volumes,
        [](const YamlNode::Entry&, const std::string&, VolumeDef&) { return false; },
        "driver, external, name, labels");
  }

  // --- a service ----------------------------------------------------------------------------
  void parse_service(const YamlNode& n, const std::string& path, Service& s) {
    std::optional<int> scale, deploy_replicas;
    std::optional<double> limit_cpus;
    std::optional<std::int64_t> limit_memory, limit_pids, reservation_memory;
    std::optional<std::string> deploy_restart;
    std::vector<std::string> env_files;
    std::map<std::string, std::string> environment;
    int scale_line = 0;
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
        env_files = string_or_list(v, p);
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
               deploy_restart);
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
      else if (is_extension(k))
        s.extensions[k] = to_plain_json(v, p);
      else
        fail(e.line, p, "unknown key");
    }
    // env_file first, environment over it (as compose does).
    for (const auto& f : env_files) {
      auto file = host_path(f);
      std::ifstream in(file);
      if (!in) fail(project_.line_of(path + ".env_file"), path + ".env_file", "cannot read " + file.string());
      std::stringstream body;
      body << in.rdbuf();
      try {
        for (auto& [key, value] : parse_dotenv(body.str())) s.environment[key] = value;
      } catch (const std::exception& ex) {
        fail(project_.line_of(path + ".env_file"), path + ".env_file", file.string() + ": " + ex.what());
      }
    }
    for (auto& [key, value] : environment) s.environment[key] = value;

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

  BuildSpec build(const YamlNode& n, const std::string& path) const {
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
      else if (e.key == "args")
        b.args = key_values(e.value, p, true);
      else if (e.key == "labels" || e.key == "target" || is_extension(e.key))
        to_plain_json(e.value, p);
      else
        fail(e.line, p, "unknown key (context, dockerfile, args, labels, target are)");
    }
    if (b.context.empty()) fail(n, path, "needs a context");
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
          else if (e.key == "published")
            port.host_port = static_cast<int>(integer(e.value, q, 0));
          else if (e.key == "host_ip")
            port.host_ip = text(e.value, q);
          else if (e.key == "protocol")
            port.protocol = text(e.value, q);
          else if (e.key == "mode" || e.key == "name" || e.key == "app_protocol")
            text(e.value, q);
          else
            fail(e.line, q, "unknown key (target, published, host_ip, protocol, mode are)");
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
          else if (e.key == "bind" || e.key == "volume" || e.key == "tmpfs" || e.key == "consistency")
            to_plain_json(e.value, q);
          else
            fail(e.line, q, "unknown key (type, source, target, read_only are)");
        }
        if (m.type != "bind" && m.type != "volume" && m.type != "tmpfs")
          fail(item, p, "type must be bind, volume or tmpfs");
        if (m.type == "bind") m.source = host_path(m.source).string();
      } else {
        std::string spec = text(item, p);
        std::vector<std::string> parts;
        std::stringstream ss(spec);
        for (std::string part; std::getline(ss, part, ':');) parts.push_back(part);
        if (parts.empty() || parts.size() > 3 ||
            std::any_of(parts.begin(), parts.end(), [](auto& s) { return s.empty(); }))
          fail(item, p, "\"" + spec + "\" is not [SOURCE:]TARGET[:MODE]");
        if (parts.size() == 1) {
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
              else if (mode != "rw" && mode != "z" && mode != "Z" && mode != "nocopy" && mode != "cached" &&
                       mode != "delegated" && mode != "consistent")
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
        duration(e.value, p);  // newer engines only
      else if (e.key == "retries")
        h.retries = static_cast<int>(integer(e.value, p, 0));
      else if (e.key == "disable")
        disable = boolean(e.value, p);
      else
        fail(e.line, p, "unknown key (test, interval, timeout, start_period, retries, disable are)");
    }
    if (disable) h.test = {"NONE"};
    if (h.test.empty()) fail(n, path, "needs a test (or disable: true)");
    return h;
  }

  std::string restart(const YamlNode& n, const std::string& path) const {
    std::string r = text(n, path);
    if (r == "no" || r == "always" || r == "unless-stopped" || r == "on-failure") return r;
    if (r.rfind("on-failure:", 0) == 0) {
      std::string count = r.substr(11);
      if (!count.empty() && std::all_of(count.begin(), count.end(), ::isdigit)) return r;
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
      for (const auto& f : mapping(e.value, p)) {
        if (f.key == "aliases")
          out[e.key].aliases = strings(f.value, p + ".aliases");
        else if (f.key == "ipv4_address" || f.key == "ipv6_address" || f.key == "priority")
          text(f.value, p + "." + f.key);
        else
          fail(f.line, p + "." + f.key, "unknown key (aliases is)");
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
          fail(f.line, q, "unknown key (condition, required, restart are)");
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
        fail(e.line, p, "unknown key (driver, options are)");
    }
    return l;
  }

  void deploy(const YamlNode& n, const std::string& path, std::optional<int>& replicas,
              std::optional<double>& cpus_limit, std::optional<std::int64_t>& memory,
              std::optional<std::int64_t>& pids, std::optional<std::int64_t>& reservation,
              std::optional<std::string>& restart_policy) const {
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
              if (r.key == "limits") cpus_limit = v;  // a cpu reservation has no engine field outside swarm
            } else if (f.key == "memory") {
              (r.key == "limits" ? memory : reservation) = size(f.value, k);
            } else if (f.key == "pids" && r.key == "limits") {
              pids = integer(f.value, k, -1);
            } else {
              fail(f.line, k,
                   "unknown key (cpus, memory" + std::string(r.key == "limits" ? ", pids" : "") + " are)");
            }
          }
        }
      } else if (e.key == "restart_policy") {
        std::string condition = "any";
        std::optional<long long> attempts;
        for (const auto& f : mapping(e.value, p)) {
          std::string q = p + "." + f.key;
          if (f.key == "condition")
            condition = text(f.value, q);
          else if (f.key == "max_attempts")
            attempts = integer(f.value, q, 0);
          else if (f.key == "delay" || f.key == "window")
            duration(f.value, q);
          else
            fail(f.line, q, "unknown key (condition, max_attempts, delay, window are)");
        }
        if (condition == "none")
          restart_policy = "no";
        else if (condition == "on-failure")
          restart_policy = attempts ? "on-failure:" + std::to_string(*attempts) : "on-failure";
        else if (condition == "any")
          restart_policy = "always";
        else
          fail(e.value, p + ".condition", "\"" + condition + "\" is not none, on-failure or any");
      } else if (e.key == "labels" || e.key == "mode") {
        to_plain_json(e.value, p);
      } else {
        fail(e.line, p, "not supported outside swarm (replicas, resources, restart_policy, labels are)");
      }
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
