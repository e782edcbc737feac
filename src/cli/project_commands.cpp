// The docker-fleet commands: config, build, up, scale, down, ps, clean; and health, logs and shell,
// which take kernels as well as services and containers.
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/render.hpp"
#include "util/yaml_json.hpp"

namespace fleet::cli {
namespace {

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

int cmd_config(Fleet& fleet, const ConfigOptions& options, bool json) {
  ConfigReport r = fleet.config(options);
  if (options.services || options.profiles) {
    for (const auto& name : r.names) std::cout << name << "\n";
  } else {
    // YAML by default, as `docker compose config`, with its top-level order; JSON with sorted keys,
    // as `docker compose config --format json`.
    std::cout << (json ? r.project.dump(2)
                       : util::json_to_yaml(
                             r.project, {"name", "services", "networks", "volumes", "secrets", "configs"}))
              << "\n";
  }
  return kExitOk;
}

int cmd_build(Fleet& fleet, const BuildOptions& options) {
  BuildReport r = fleet.build(options);
  if (r.images.empty()) std::cerr << "nothing to build: no selected service has a build section\n";
  for (const auto& i : r.images)
    std::cout << (i.rebuilt ? "built " : "up to date ") << i.tag << " (" << i.id << ")\n";
  return kExitOk;
}

int cmd_up(Fleet& fleet, UpOptions options, const std::vector<std::string>& scale) {
  options.replicas = parse_replicas(scale, false);
  UpReport r = fleet.up(options);
  if (r.steps.empty()) std::cerr << "up to date: " << r.services.size() << " service(s) as asked\n";
  return kExitOk;
}

int cmd_scale(Fleet& fleet, const std::vector<std::string>& args, bool wait) {
  fleet.scale({.replicas = parse_replicas(args, true), .wait = wait});
  return kExitOk;
}

int cmd_down(Fleet& fleet, const DownOptions& options) {
  DownReport r = fleet.down(options);
  std::cerr << "removed " << (r.services ? std::to_string(r.services) + " service(s), " : std::string())
            << r.containers << " container(s), " << r.networks << " network(s)"
            << (options.volumes ? ", " + std::to_string(r.volumes) + " volume(s)" : std::string())
            << (r.pool_members ? ", " + std::to_string(r.pool_members) + " idle warm-pool kernel(s)"
                               : std::string())
            << "\n";
  return kExitOk;
}

int cmd_ps(Fleet& fleet, bool all, bool json) {
  auto rows = fleet.ps(all);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) out.push_back(r.to_json());
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  const bool swarm = std::any_of(rows.begin(), rows.end(), [](const PsRow& r) { return !r.node.empty(); });
  if (swarm) {
    // Tasks, as `docker stack ps` shows them: where each runs, and why one failed.
    std::printf("%-36s %-22s %-14s %-10s %-8s %-5s %-40s %s\n", "NAME", "SERVICE", "NODE", "STATE", "MEMORY",
                "CPUS", "PORTS", "ERROR");
    for (const auto& r : rows) {
      char cpus[16] = "-";
      if (r.cpus > 0) std::snprintf(cpus, sizeof cpus, "%.2g", r.cpus);
      std::printf("%-36s %-22s %-14s %-10s %-8s %-5s %-40s %s\n", r.name.c_str(), r.service.c_str(),
                  r.node.c_str(), r.state.c_str(), human_bytes(r.memory).c_str(), cpus, r.ports.c_str(),
                  r.health.c_str());
    }
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

int cmd_nodes(Fleet& fleet, bool json) {
  auto rows = fleet.nodes();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) out.push_back(r.to_json());
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-26s %-14s %-8s %-8s %-8s %-15s %-6s %-8s %-7s %-9s %s\n", "ID", "HOSTNAME", "ROLE", "STATE",
              "AVAIL", "ADDRESS", "TASKS", "KERNELS", "CPU%", "MEMORY", "ENGINE");
  for (const auto& r : rows) {
    char cpu[16] = "-";
    if (r.cpu_percent) std::snprintf(cpu, sizeof cpu, "%.1f", *r.cpu_percent);
    std::printf("%-26s %-14s %-8s %-8s %-8s %-15s %-6d %-8d %-7s %-9s %s\n", r.id.c_str(), r.hostname.c_str(),
                (r.role + (r.leader ? "*" : "")).c_str(), r.state.c_str(), r.availability.c_str(),
                r.address.c_str(), r.tasks, r.kernels, cpu,
                r.memory_used ? human_bytes(*r.memory_used).c_str() : "-",
                r.endpoint.empty() ? "-" : r.endpoint.c_str());
  }
  return kExitOk;
}

int cmd_drain_node(Fleet& fleet, const std::string& node, int timeout_seconds, bool json) {
  auto rows = fleet.drain_node(node, std::chrono::seconds(timeout_seconds));
  bool failed = std::any_of(rows.begin(), rows.end(), [](const NodeDrainRow& r) { return !r.error.empty(); });
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) out.push_back(r.to_json());
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("%-40s %-14s %-14s %-8s %s\n", "KERNEL", "FROM", "TO", "SECONDS", "RESTORED");
    for (const auto& r : rows)
      std::printf(
          "%-40s %-14s %-14s %-8.1f %s\n", r.kernel_id.c_str(), r.from_node.c_str(),
          r.to_node.empty() ? "-" : r.to_node.c_str(), r.seconds,
          r.error.empty() ? std::to_string(r.restored.size()).append(" global(s)").c_str() : r.error.c_str());
    std::cerr << "node " << node << " drained; " << rows.size() << " kernel(s) moved\n";
  }
  return failed ? kExitFailure : kExitOk;
}

int cmd_activate_node(Fleet& fleet, const std::string& node) {
  fleet.activate_node(node);
  std::cerr << "node " << node << " active\n";
  return kExitOk;
}

int cmd_clean(Fleet& fleet) {
  CleanReport r = fleet.clean();
  std::cerr << "removed " << r.down.containers << " container(s), " << r.down.networks << " network(s), "
            << r.down.volumes << " volume(s), " << r.images << " image(s), " << r.test_leftovers
            << " leftover(s) of dead test runs\n";
  return kExitOk;
}

int cmd_health(Fleet& fleet, const std::vector<std::string>& names, bool json) {
  auto rows = fleet.health(names);
  bool all_ok = !rows.empty();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    all_ok = all_ok && r.ok;
    out.push_back(r.to_json());
    if (json) continue;
    std::string text;
    for (const auto& p : r.probes)
      text += (text.empty() ? "" : ", ") + std::to_string(p.host_port) + "->" +
              std::to_string(p.container_port) + (p.ok ? " ok" : " " + p.error);
    if (r.heartbeat)
      text = (*r.heartbeat ? "heartbeat ok" : "heartbeat: " + r.heartbeat_error) +
             (text.empty() ? "" : "; " + text);
    std::printf("%-36s %-10s %-10s %-4s %s\n", r.name.c_str(), r.state.c_str(), r.health.c_str(),
                r.ok ? "ok" : "FAIL", text.c_str());
  }
  if (json) std::cout << out.dump(2) << "\n";
  if (rows.empty()) std::cerr << "no containers\n";
  return all_ok ? kExitOk : kExitFailure;
}

int cmd_logs(Fleet& fleet, const LogsOptions& options) {
  bool tty = ::isatty(1) == 1;
  static const char* colors[] = {"\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m", "\x1b[34m", "\x1b[96m"};
  std::map<std::string, std::size_t> color_of;
  std::size_t width = 0;
  fleet.logs(options, [&](const std::string& container, Stream, std::string_view line) {
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

int cmd_shell(Fleet& fleet, std::vector<std::string> args, int index) {
  if (args.empty()) throw UsageError("shell KERNEL|SERVICE|CONTAINER [CMD...]");
  ShellOptions o{.target = args.front(), .index = index};
  o.command.assign(args.begin() + 1, args.end());
  // `shell web -- cat f`: the separator ends the options, it is not part of CMD.
  if (!o.command.empty() && o.command.front() == "--") o.command.erase(o.command.begin());
  bool interactive = o.command.empty();
  o.tty = interactive && ::isatty(0) == 1 && ::isatty(1) == 1;
  o.stdin_fd = interactive ? 0 : -1;
  std::string session;
  o.on_started = [&](const std::string& id) {
    session = id;
    if (o.tty) g_window_changed = true;  // size the new terminal on the first tick
  };
  o.tick = [&] {
    winsize ws{};
    if (o.tty && g_window_changed.exchange(false) && !session.empty() && ::ioctl(1, TIOCGWINSZ, &ws) == 0 &&
        ws.ws_row)
      fleet.resize_shell(session, ws.ws_row, ws.ws_col);
  };
  std::optional<RawTerminal> raw;
  if (o.tty) {
    signal(SIGWINCH, on_winch);
    raw.emplace();
  }
  return fleet.shell(o, [](Stream stream, std::string_view data) {
    auto* out = stream == Stream::Stderr ? stderr : stdout;
    std::fwrite(data.data(), 1, data.size(), out);
    std::fflush(out);
    return true;
  });
}

}  // namespace fleet::cli
