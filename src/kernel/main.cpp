// llmspell-kernel: `start` serves one kernel; `probe` is a heartbeat round trip (the container's
// HEALTHCHECK, so no shell is needed in the image).
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <zmq.hpp>

#include "kernel/config.hpp"
#include "kernel/connection_plan.hpp"
#include "kernel/kernel.hpp"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_interrupt{false};

extern "C" void on_signal(int signal) {
  if (signal == SIGINT)
    g_interrupt = true;
  else
    g_stop = true;
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

constexpr const char* kDefaultConnectionFile = "/var/lib/llmspell/state/connection.json";

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

void setup_logging(const std::string& log_dir, const std::string& kernel_id, const std::string& level) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stdout_sink_mt>()};
  std::string file_problem;
  if (!log_dir.empty()) {
    // A log folder we cannot write (a root-owned bind mount, say) costs the file, not the kernel.
    try {
      sinks.push_back(
          std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_dir + "/" + kernel_id + ".log"));
    } catch (const spdlog::spdlog_ex& e) {
      file_problem = e.what();
    }
  }
  auto logger = std::make_shared<spdlog::logger>("kernel", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  if (!file_problem.empty()) spdlog::warn("logging to stdout only: {}", file_problem);
}

int probe(const std::string& connection_file, int timeout_ms) {
  fleet::kernel::ConnectionInfo c = fleet::kernel::read_connection_file(connection_file);
  std::string ip = c.ip == "0.0.0.0" ? "127.0.0.1" : c.ip;
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::req);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(c.transport + "://" + ip + ":" + std::to_string(c.hb_port));
  socket.send(zmq::str_buffer("ping"), zmq::send_flags::none);
  zmq::pollitem_t items[] = {{static_cast<void*>(socket), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 1, std::chrono::milliseconds(timeout_ms));
  zmq::message_t answer;
  if ((items[0].revents & ZMQ_POLLIN) && socket.recv(answer) && answer.to_string() == "ping") {
    std::cout << "ok: heartbeat answered on port " << c.hb_port << "\n";
    return 0;
  }
  std::cerr << "llmspell-kernel probe: no heartbeat on " << ip << ":" << c.hb_port << " within " << timeout_ms
            << " ms\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"llmspell-kernel: a Jupyter kernel for Lua and JavaScript", "llmspell-kernel"};
  app.require_subcommand(1);

  auto* start = app.add_subcommand("start", "Serve a kernel");
  int port = 0;
  int shell_port = 0, iopub_port = 0, stdin_port = 0, control_port = 0, hb_port = 0;
  std::string connection_file = env_or("LLMSPELL_CONNECTION_FILE", kDefaultConnectionFile);
  std::string config_path = env_or("LLMSPELL_CONFIG", "");
  std::string language = env_or("LLMSPELL_LANGUAGE", "lua");
  std::string ip = "0.0.0.0";
  std::string key = env_or("LLMSPELL_KERNEL_KEY", "");
  std::string kernel_id = env_or("KERNEL_ID", "");
  std::string log_dir = env_or("LLMSPELL_LOG_DIR", "");
  std::string state_dir = env_or("LLMSPELL_STATE_DIR", "/var/lib/llmspell/state");
  std::string log_level = env_or("LLMSPELL_LOG_LEVEL", "info");
  start->add_option("--port", port,
                    "shell port; iopub, stdin, control and hb take the next four (0: any free)");
  start->add_option("--shell-port", shell_port);
  start->add_option("--iopub-port", iopub_port);
  start->add_option("--stdin-port", stdin_port);
  start->add_option("--control-port", control_port);
  start->add_option("--hb-port", hb_port);
  start->add_option("--ip", ip, "address to bind (default 0.0.0.0: every interface of the container)");
  start->add_option("--connection-file", connection_file,
                    "with no ports given and the file naming them (Jupyter's launcher): served as written; "
                    "else where to write the connection file");
  start->add_option("--config", config_path, "TOML configuration (provider, model, ...)");
  start->add_option("--language", language, "lua or javascript")
      ->check(CLI::IsMember({"lua", "javascript", "js"}));
  start->add_option("--key", key, "HMAC key (default: kept from an existing connection file, else random)");
  start->add_option("--kernel-id", kernel_id);
  start->add_option("--log-dir", log_dir, "also log to DIR/<kernel-id>.log");
  start->add_option("--state-dir", state_dir, "where status.json (busy/idle, last activity) is kept");
  start->add_option("--log-level", log_level)
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  auto* probe_cmd = app.add_subcommand("probe", "Heartbeat round trip; exit 0 when the kernel answers");
  int timeout_ms = 2000;
  probe_cmd->add_option("--connection-file", connection_file);
  probe_cmd->add_option("--timeout-ms", timeout_ms);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (*probe_cmd) return probe(connection_file, timeout_ms);

    if (kernel_id.empty()) kernel_id = "kernel-" + fleet::jupyter::random_hex(4);
    setup_logging(log_dir, kernel_id, log_level);
    std::optional<fleet::kernel::ConnectionInfo> existing;
    if (std::filesystem::exists(connection_file)) {
      try {
        existing = fleet::kernel::read_connection_file(connection_file);
      } catch (const std::exception& e) {
        spdlog::warn("ignoring the old connection file: {}", e.what());
      }
    }
    fleet::kernel::ConnectionPlan plan = fleet::kernel::plan_connection(
        {port, shell_port, iopub_port, stdin_port, control_port, hb_port, ip, key}, existing,
        [] { return fleet::jupyter::random_hex(32); });
    fleet::kernel::KernelOptions options;
    options.connection = plan.connection;
    options.bind_ip = plan.bind_ip;
    if (plan.write_file) options.connection_file = connection_file;
    options.language = language == "js" ? "javascript" : language;
    options.kernel_id = kernel_id;
    options.state_dir = state_dir;
    // The status file is for the fleet: a kernel Jupyter starts on a host may have no such folder.
    if (std::error_code ec; !state_dir.empty() && !std::filesystem::create_directories(state_dir, ec) && ec) {
      spdlog::warn("no status file: cannot create {}: {}", state_dir, ec.message());
      options.state_dir.clear();
    }
    if (!config_path.empty())
      options.config = fleet::kernel::redact_secrets(fleet::kernel::load_config(config_path));

    install_signal_handlers();
    fleet::kernel::Kernel kernel(std::move(options));
    kernel.run(g_stop, g_interrupt);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "llmspell-kernel: " << e.what() << "\n";
    return 1;
  }
}
