// The docker-fleet commands on a compose project: config, build, up, down, scale, ps, logs, health,
// shell, clean.
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "compose/loader.hpp"
#include "fleet/project.hpp"
#include "util/durations.hpp"

namespace fleet::cli {
namespace {

compose::Project load(const GlobalOptions& g) {
  if (!std::filesystem::exists(g.file)) throw UsageError("no compose file at " + g.file + " (use -f FILE)");
  return compose::load_project(
      {.file = g.file,
       .project_name = g.project.empty() ? std::nullopt : std::optional<std::string>(g.project)});
}

struct Session {
  explicit Session(const GlobalOptions& g) : client(make_client(g)), project(load(g)) {}
  engine::Client client;
  compose::Project project;
  Progress progress{stderr};
  ProjectContext context() { return {client, project, progress.sink()}; }
};

std::string human_bytes(std::int64_t bytes) {
  if (bytes <= 0) return "-";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, v == static_cast<long>(v) ? "%.0f%s" : "%.1f%s", v, units[u]);
  return buf;
}

std::string human_duration(std::int64_t seconds) {
  if (seconds < 0) return "-";
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) return std::to_string(seconds / 60) + "m" + std::to_string(seconds % 60) + "s";
  if (seconds < 86400)
    return std::to_string(seconds / 3600) + "h" + std::to_string(seconds % 3600 / 60) + "m";
  return std::to_string(seconds / 86400) + "d" + std::to_string(seconds % 86400 / 3600) + "h";
}

void emit_yaml(YAML::Emitter& out, const nlohmann::json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      emit_yaml(out, it.value());
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& v : j) emit_yaml(out, v);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    out << j.get<std::string>();
  } else if (j.is_null()) {
    out << YAML::Null;
  } else {
    out << j.dump();
  }
}

// --since: unix seconds, a duration back from now (10m), or an RFC 3339 time.
std::int64_t parse_since(const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit)) return std::stoll(text);
  if (auto d = util::parse_duration(text))
    return static_cast<std::int64_t>(std::time(nullptr)) - *d / 1'000'000'000;
  std::tm tm{};
  if (text.size() >= 19 && strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return timegm(&tm);
  throw UsageError("--since \"" + text + "\" is not a unix time, a duration (10m) or an RFC 3339 time");
}

// "SERVICE=N" items (and, for `scale`, the form "SERVICE N").
std::map<std::string, int> parse_replicas(const std::vector<std::string>& args, bool allow_pair) {
  std::map<std::string, int> replicas;
  auto count_of = [](const std::string& text) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), ::isdigit) || text.size() > 4)
      throw UsageError("\"" + text + "\" is not a replica count");
    return std::stoi(text);
  };
  if (allow_pair && args.size() == 2 && args[0].find('=') == std::string::npos &&
      args[1].find('=') == std::string::npos) {
    replicas[args[0]] = count_of(args[1]);
    return replicas;
  }
  for (const auto& a : args) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("expected SERVICE=N, got \"" + a + "\"");
    replicas[a.substr(0, eq)] = count_of(a.substr(eq + 1));
  }
  return replicas;
}

}  // namespace

int cmd_config(const GlobalOptions& g, bool services, bool profiles, bool json) {
  compose::Project p = load(g);
  if (profiles) {
    for (const auto& name : p.all_profiles()) std::cout << name << "\n";
    return kExitOk;
  }
  auto selection = compose::select_services(p, {.profile_flags = g.profiles});
  if (services) {
    for (const auto& name : selection.enabled) std::cout << name << "\n";
    return kExitOk;
  }
  nlohmann::json j = compose::to_json(p);
  for (auto it = j["services"].begin(); it != j["services"].end();)
    if (std::find(selection.enabled.begin(), selection.enabled.end(), it.key()) == selection.enabled.end())
      it = j["services"].erase(it);
    else
      ++it;
  if (json) {
    std::cout << j.dump(2) << "\n";
  } else {
    YAML::Emitter out;
    emit_yaml(out, j);
    std::cout << out.c_str() << "\n";
  }
  return kExitOk;
}

int cmd_build(const GlobalOptions& g, const std::vector<std::string>& services, bool no_cache) {
  Session s(g);
  auto ctx = s.context();
  auto built = fleet::build(ctx, {.profile_flags = g.profiles, .names = services}, no_cache);
  if (built.empty()) std::cerr << "nothing to build: no selected service has a build section\n";
  return kExitOk;
}

int cmd_up(const GlobalOptions& g, const std::vector<std::string>& names, bool wait, int timeout,
           const std::vector<std::string>& scale) {
  auto replicas = parse_replicas(scale, false);
  Session s(g);
  for (const auto& [service, count] : replicas)
    if (!s.project.services.count(service)) throw UsageError("--scale: no such service: " + service);
  auto ctx = s.context();
  fleet::UpResult r = fleet::up(
      ctx, {.selection = {.profile_flags = g.profiles, .names = names, .names_may_be_profiles = true},
            .replicas = replicas,
            .wait = wait,
            .wait_timeout = std::chrono::seconds(timeout)});
  if (r.plan.empty()) std::cerr << "up to date: " << r.selection.targeted.size() << " service(s) as asked\n";
  return kExitOk;
}

int cmd_down(const GlobalOptions& g, bool volumes, std::optional<int> timeout) {
  Session s(g);
  auto ctx = s.context();
  auto r = fleet::down(ctx, {.volumes = volumes, .timeout = timeout});
  std::cerr << "removed " << r.containers << " container(s), " << r.networks << " network(s)"
            << (volumes ? ", " + std::to_string(r.volumes) + " volume(s)" : std::string()) << "\n";
  return kExitOk;
}

int cmd_scale(const GlobalOptions& g, const std::vector<std::string>& args, bool wait) {
  auto replicas = parse_replicas(args, true);
  if (replicas.empty()) throw UsageError("scale what? (SERVICE N or SERVICE=N)");
  Session s(g);
  auto ctx = s.context();
  fleet::scale(ctx, replicas, wait, std::chrono::seconds(120));
  return kExitOk;
}

int cmd_ps(const GlobalOptions& g, bool all, bool json) {
  Session s(g);
  auto ctx = s.context();
  auto rows = fleet::ps(ctx, all);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows)
      out.push_back({{"name", r.name},
                     {"service", r.service},
                     {"number", r.number},
                     {"state", r.state},
                     {"health", r.health},
                     {"ports", r.ports},
                     {"memory", r.memory},
                     {"cpus", r.cpus},
                     {"uptime_seconds", r.uptime_seconds},
                     {"id", r.id}});
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-36s %-22s %-10s %-10s %-8s %-5s %-8s %s\n", "NAME", "SERVICE", "STATE", "HEALTH", "MEMORY",
              "CPUS", "UPTIME", "PORTS");
  for (const auto& r : rows) {
    char cpus[16] = "-";
    if (r.cpus > 0) std::snprintf(cpus, sizeof cpus, "%.2g", r.cpus);
    std::printf("%-36s %-22s %-10s %-10s %-8s %-5s %-8s %s\n", r.name.c_str(), r.service.c_str(),
                r.state.c_str(), r.health.empty() ? "-" : r.health.c_str(), human_bytes(r.memory).c_str(),
                cpus, human_duration(r.uptime_seconds).c_str(), r.ports.c_str());
  }
  return kExitOk;
}

int cmd_logs(const GlobalOptions& g, const std::vector<std::string>& names, bool follow,
             std::optional<int> tail, const std::string& since, bool timestamps) {
  Session s(g);
  auto ctx = s.context();
  bool tty = ::isatty(1) == 1;
  static const char* colors[] = {"\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m", "\x1b[34m", "\x1b[96m"};
  std::map<std::string, std::size_t> color_of;
  std::size_t width = 0;
  for (const auto& c : fleet::select_containers(ctx, names, true)) width = std::max(width, c.name().size());
  fleet::LogsRequest request{.names = names, .follow = follow, .tail = tail, .timestamps = timestamps};
  if (!since.empty()) request.since = parse_since(since);
  fleet::logs(ctx, request, [&](const std::string& container, engine::StreamId, std::string_view line) {
    width = std::max(width, container.size());
    std::string prefix = container + std::string(width - container.size(), ' ') + " | ";
    if (tty) {
      auto [it, added] = color_of.emplace(container, color_of.size() % 6);
      prefix = std::string(colors[it->second]) + prefix + "\x1b[0m";
    }
    std::cout << prefix << line << "\n" << std::flush;
  });
  return kExitOk;
}

int cmd_health(const GlobalOptions& g, const std::vector<std::string>& names, bool json) {
  Session s(g);
  auto ctx = s.context();
  auto rows = fleet::health(ctx, names);
  bool all_ok = !rows.empty();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    all_ok = all_ok && r.ok;
    nlohmann::json probes = nlohmann::json::array();
    std::string text;
    for (const auto& p : r.probes) {
      probes.push_back({{"host_ip", p.host_ip},
                        {"host_port", p.host_port},
                        {"container_port", p.container_port},
                        {"ok", p.ok},
                        {"error", p.error}});
      text += (text.empty() ? "" : ", ") + std::to_string(p.host_port) + "->" +
              std::to_string(p.container_port) + (p.ok ? " ok" : " " + p.error);
    }
    out.push_back({{"name", r.name},
                   {"service", r.service},
                   {"state", r.state},
                   {"health", r.health},
                   {"ok", r.ok},
                   {"ports", probes}});
    if (!json)
      std::printf("%-36s %-10s %-10s %-4s %s\n", r.name.c_str(), r.state.c_str(), r.health.c_str(),
                  r.ok ? "ok" : "FAIL", text.c_str());
  }
  if (json) std::cout << out.dump(2) << "\n";
  if (rows.empty()) std::cerr << "no containers\n";
  return all_ok ? kExitOk : kExitFailure;
}

namespace {
std::atomic<bool> g_window_changed{false};
extern "C" void on_winch(int) {
  g_window_changed = true;
}

// The terminal in raw mode for an interactive shell, restored whatever happens.
class RawTerminal {
 public:
  RawTerminal() {
    if (::tcgetattr(0, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(0, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};
}  // namespace

int cmd_shell(const GlobalOptions& g, std::vector<std::string> args, int index) {
  if (args.empty()) throw UsageError("shell SERVICE [CMD...]");
  Session s(g);
  auto ctx = s.context();
  fleet::ShellRequest r{.service = args.front(), .index = index};
  r.command.assign(args.begin() + 1, args.end());
  bool interactive = r.command.empty();
  r.tty = interactive && ::isatty(0) == 1 && ::isatty(1) == 1;
  r.stdin_fd = interactive ? 0 : -1;
  std::string exec_id;
  auto resize = [&] {
    winsize ws{};
    if (!exec_id.empty() && ::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row)
      ctx.client.exec_resize(exec_id, ws.ws_row, ws.ws_col);
  };
  r.tick = [&] {
    if (r.tty && g_window_changed.exchange(false)) resize();
  };
  std::optional<RawTerminal> raw;
  if (r.tty) {
    signal(SIGWINCH, on_winch);
    raw.emplace();
  }
  int code = fleet::shell(
      ctx, r,
      [](const engine::OutputChunk& c) {
        auto* stream = c.stream == engine::StreamId::Stderr ? stderr : stdout;
        std::fwrite(c.data.data(), 1, c.data.size(), stream);
        std::fflush(stream);
        return true;
      },
      [&](const std::string& id) {
        exec_id = id;
        if (r.tty) g_window_changed = true;  // size the new terminal on the first tick
      });
  return code;
}

int cmd_clean(const GlobalOptions& g) {
  Session s(g);
  auto ctx = s.context();
  auto r = fleet::clean(ctx);
  std::cerr << "removed " << r.down.containers << " container(s), " << r.down.networks << " network(s), "
            << r.down.volumes << " volume(s), " << r.images << " image(s), " << r.test_leftovers
            << " leftover(s) of dead test runs\n";
  return kExitOk;
}

}  // namespace fleet::cli
