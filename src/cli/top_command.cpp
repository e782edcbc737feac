// `top`: the fleet live, like `docker stats`. On a terminal it redraws in place on the alternate
// screen, reads keys unbuffered (q quits) and puts the terminal back however it ends (q, SIGINT,
// SIGTERM, an error); otherwise it prints a block per refresh, or one with --no-stream.
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/render.hpp"

namespace fleet::cli {
namespace {

volatile std::sig_atomic_t g_quit = 0;

void on_quit_signal(int) {
  g_quit = 1;
}

std::string percent(const std::optional<double>& value) {
  if (!value) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", *value);
  return buf;
}

std::string count(const std::optional<int>& value) {
  return value ? std::to_string(*value) : "-";
}

std::string now_text() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

std::vector<std::string> block(const TopReport& r) {
  int running = 0;
  for (const auto& k : r.kernels) running += k.state == "running";
  std::vector<std::string> out = {"llmspell-fleet top  " + now_text() +
                                  "  kernels: " + std::to_string(r.kernels.size()) + " (" +
                                  std::to_string(running) + " running)"};
  out.emplace_back();
  std::vector<std::vector<std::string>> kernels = {{"KERNEL", "ORIGIN", "OWNER", "STATE", "HEALTH", "CPU %",
                                                    "MEM USAGE / LIMIT", "CLIENTS", "PENDING", "EXECUTION"}};
  for (const auto& k : r.kernels)
    kernels.push_back(
        {k.kernel_id, k.origin == "compose" ? k.project + "/" + k.service : k.origin, k.owner,
         k.pool.empty() ? k.state_text() : k.state + " (pool)", k.health, percent(k.cpu_percent),
         k.memory_used ? human_bytes(*k.memory_used) + " / " + human_bytes(k.memory_limit.value_or(0)) : "-",
         count(k.clients), count(k.pending), k.execution_state.empty() ? "-" : k.execution_state});
  for (auto& line : table_lines(kernels)) out.push_back(std::move(line));

  out.emplace_back();
  if (r.pools.empty()) {
    out.push_back(std::string("WARM POOLS: none") + (r.pools_live ? "" : " (no serve keeps any)"));
  } else {
    std::vector<std::vector<std::string>> pools = {{r.pools_live ? "WARM POOL" : "WARM POOL (serve gone)",
                                                    "SIZE", "FILLING", "TARGET", "HITS", "MISSES"}};
    for (const auto& p : r.pools)
      pools.push_back({p.name, std::to_string(p.current_size), std::to_string(p.filling),
                       std::to_string(p.target_size), std::to_string(p.hits), std::to_string(p.misses)});
    for (auto& line : table_lines(pools)) out.push_back(std::move(line));
  }

  out.emplace_back();
  out.push_back(std::string("AUTOSCALER: ") + (r.autoscaler_running ? "running" : "not running") +
                (r.decisions.empty() ? ", no decisions yet" : ", latest decisions:"));
  for (const auto& d : r.decisions)
    out.push_back("  " + d.at + "  " + d.project + "/" + d.service + "  " + d.summary +
                  (d.outcome.empty() ? "" : "  (" + d.outcome + ")"));
  return out;
}

// The terminal as top found it, given back whatever way top ends.
class Screen {
 public:
  Screen() {
    raw_input_ = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_) == 0;
    if (raw_input_) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // keys one by one, not echoed
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    std::fputs("\x1b[?1049h\x1b[?25l", stdout);  // alternate screen, cursor hidden
    std::fflush(stdout);
  }
  ~Screen() {
    std::fputs("\x1b[?25h\x1b[?1049l", stdout);
    std::fflush(stdout);
    if (raw_input_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  void draw(const std::vector<std::string>& lines) const {
    winsize size{};
    const bool known = ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0;
    std::string frame = "\x1b[H";
    std::size_t shown = 0;
    for (const auto& line : lines) {
      if (known && shown + 1 >= size.ws_row) break;  // the last row stays free: no scrolling
      // Cut to the width: a wrapped line would push the view off the screen.
      frame += (known && line.size() > size.ws_col ? line.substr(0, size.ws_col) : line) + "\x1b[K\r\n";
      ++shown;
    }
    frame += "\x1b[J";
    std::fputs(frame.c_str(), stdout);
    std::fflush(stdout);
  }

  // Waits until `deadline`, reading keys; true when one of them asked to quit.
  bool wait_for_quit(std::chrono::steady_clock::time_point deadline) const {
    while (!g_quit) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd in{.fd = STDIN_FILENO, .events = POLLIN, .revents = 0};
      int ready = ::poll(raw_input_ ? &in : nullptr, raw_input_ ? 1 : 0, static_cast<int>(left.count()));
      if (ready <= 0) continue;  // timed out (checked above) or a signal
      char key = 0;
      if (::read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q')) return true;
    }
    return true;
  }

 private:
  bool raw_input_ = false;
  termios saved_{};
};

}  // namespace

int cmd_top(Fleet& fleet, const TopArgs& args) {
  struct sigaction action {};
  action.sa_handler = on_quit_signal;  // no SA_RESTART: a wait ends at once
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  const auto interval = std::chrono::milliseconds(static_cast<long>(args.interval * 1000));
  TopOptions options;

  if (args.once || !::isatty(STDOUT_FILENO)) {
    for (bool first = true; !g_quit; first = false) {
      const auto deadline = std::chrono::steady_clock::now() + interval;
      TopReport report = fleet.top(options);
      if (!first) std::printf("\n");
      for (const auto& line : block(report)) std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      if (args.once) break;
      while (!g_quit && std::chrono::steady_clock::now() < deadline)
        ::poll(nullptr, 0,
               static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count()));
    }
    return kExitOk;
  }

  // The first refresh fails the command (an engine that does not answer); later failures are shown.
  TopReport report = fleet.top(options);
  Screen screen;
  std::string failure;
  for (;;) {
    const auto deadline = std::chrono::steady_clock::now() + interval;
    std::vector<std::string> lines = block(report);
    if (!failure.empty()) lines.insert(lines.begin() + 1, "refresh failed, showing the last one: " + failure);
    screen.draw(lines);
    if (screen.wait_for_quit(deadline)) break;
    try {
      report = fleet.top(options);
      failure.clear();
    } catch (const Error& e) {
      failure = e.what();
    }
  }
  return kExitOk;
}

}  // namespace fleet::cli
