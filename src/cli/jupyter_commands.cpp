// Jupyter's side of the fleet: `kernelspec install` writes kernelspecs, and `kernel-launch` is what
// they run: a fleet kernel in the foreground for jupyter_client's KernelManager, which signals the
// launcher (SIGINT: interrupt; SIGTERM: stop) and may kill it outright.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/render.hpp"

namespace fleet::cli {
namespace {

std::atomic<int> g_interrupts{0};
std::atomic<bool> g_stop{false};

void on_interrupt(int) {
  ++g_interrupts;
}
void on_stop(int) {
  g_stop = true;
}

void handle(int signal, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
}

// A killed launcher (SIGKILL: Jupyter's last resort) runs no code of its own: a watchdog process,
// in a process group of its own so Jupyter's group signals spare it, removes the container the
// launcher told it about once the launcher's end of the pipe closes without "done".
pid_t start_watchdog(Fleet& fleet, int& to_watchdog) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("kernel-launch: no pipe for the watchdog");
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("kernel-launch: cannot start the watchdog");
  if (pid > 0) {
    ::close(fds[0]);
    to_watchdog = fds[1];
    return pid;
  }
  ::close(fds[1]);
  ::setpgid(0, 0);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) std::signal(s, SIG_IGN);
  if (FILE* null = std::fopen("/dev/null", "r+")) {
    ::dup2(::fileno(null), STDIN_FILENO);
    ::dup2(::fileno(null), STDOUT_FILENO);  // nobody waits for the launcher's output to end on it
  }
  std::string said, container;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;)
    if (n > 0) said.append(buf, static_cast<std::size_t>(n));
  for (std::size_t at = 0, nl; (nl = said.find('\n', at)) != std::string::npos; at = nl + 1) {
    std::string line = said.substr(at, nl - at);
    if (line == "done") ::_exit(0);
    if (line.rfind("container ", 0) == 0) container = line.substr(10);
  }
  if (!container.empty()) {
    try {
      fleet.stop({.names = {container}, .timeout = 0, .drain_timeout = 0, .checkpoint = false});
    } catch (const std::exception& e) {
      std::cerr << "llmspell-fleet kernel-launch: container " << container << " not removed: " << e.what()
                << "\n";
    }
  }
  ::_exit(0);
}

void tell(int fd, const std::string& line) {
  std::string text = line + "\n";
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    std::cerr << "llmspell-fleet kernel-launch: the watchdog did not hear: " << line << "\n";
}

}  // namespace

int cmd_kernel_launch(Fleet& fleet, LaunchOptions options) {
  std::signal(SIGPIPE, SIG_IGN);  // a watchdog gone is reported, not fatal
  int to_watchdog = -1;
  pid_t watchdog = start_watchdog(fleet, to_watchdog);
  handle(SIGINT, on_interrupt);
  handle(SIGTERM, on_stop);
  handle(SIGHUP, on_stop);
  options.interrupts = &g_interrupts;
  options.stop = &g_stop;
  options.started = [&](const KernelRow& k) {
    tell(to_watchdog, "container " + k.container_id);
    std::cerr << "llmspell-fleet: kernel " << k.kernel_id << " (" << k.language << ", " << k.config
              << ") in container " << k.container << "\n";
  };
  int code = 1;
  try {
    code = fleet.launch(options);
    tell(to_watchdog, "done");
  } catch (...) {
    ::close(to_watchdog);  // the watchdog removes what was started
    ::waitpid(watchdog, nullptr, 0);
    throw;
  }
  ::close(to_watchdog);
  ::waitpid(watchdog, nullptr, 0);
  return code;
}

int cmd_kernelspec_install(Fleet& fleet, KernelspecOptions options, bool json) {
  options.launcher = std::filesystem::read_symlink("/proc/self/exe").string();
  auto rows = fleet.install_kernelspecs(options);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) out.push_back(r.to_json());
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> table = {{"KERNELSPEC", "DISPLAY NAME", "FILE"}};
  for (const auto& r : rows) table.push_back({r.name, r.spec["display_name"].get<std::string>(), r.path});
  print_table(table);
  return kExitOk;
}

}  // namespace fleet::cli
