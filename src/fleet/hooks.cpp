#include "fleet/hooks.hpp"

#include "fleet/errors.hpp"
#include "util/poll.hpp"

namespace fleet {
namespace {

std::string hook_name(const compose::Service& s, const char* kind, std::size_t index) {
  return "services." + s.name + "." + kind + "[" + std::to_string(index) + "]";
}

}  // namespace

engine::ExecOptions hook_exec(const compose::Hook& hook) {
  engine::ExecOptions o{.cmd = hook.command, .user = hook.user, .working_dir = hook.working_dir};
  for (const auto& [key, value] : hook.environment) o.env.push_back(key + "=" + value);
  o.privileged = hook.privileged;
  return o;
}

void run_post_start(engine::Api& client, const compose::Service& s, const std::string& id) {
  for (std::size_t i = 0; i < s.post_start.size(); ++i) {
    const std::string name = hook_name(s, "post_start", i);
    engine::ExecRunResult result;
    try {
      result = client.exec_run(id, hook_exec(s.post_start[i]));
    } catch (const engine::EngineError& e) {
      throw OperationFailed(name + ": the hook could not run: " + e.daemon_message());
    }
    if (result.exit_code != 0)
      throw OperationFailed(name + ": the hook exited with " + std::to_string(result.exit_code));
  }
}

std::vector<std::string> run_pre_stop(engine::Api& client, const compose::Service& s, const std::string& id,
                                      std::chrono::milliseconds limit, util::Clock& clock) {
  std::vector<std::string> problems;
  const auto deadline = clock.now() + limit;
  for (std::size_t i = 0; i < s.pre_stop.size(); ++i) {
    const std::string name = hook_name(s, "pre_stop", i);
    try {
      std::string exec = client.exec_create(id, hook_exec(s.pre_stop[i]));
      client.exec_start_detached(exec);
      std::optional<int> code;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.now());
      util::poll_until(
          [&] {
            engine::ExecInspect e = client.exec_inspect(exec);
            if (!e.running) code = e.exit_code.value_or(-1);
            return !e.running;
          },
          {.timeout = std::max(left, std::chrono::milliseconds(0)),
           .interval = std::chrono::milliseconds(100),
           .clock = &clock});
      if (!code)
        problems.push_back(name + ": still running after " + std::to_string(limit.count() / 1000) +
                           " s; the container is stopped anyway");
      else if (*code != 0)
        problems.push_back(name + ": the hook exited with " + std::to_string(*code));
    } catch (const engine::EngineError& e) {
      problems.push_back(name + ": the hook could not run: " + e.daemon_message());
    }
    if (clock.now() >= deadline) break;
  }
  return problems;
}

}  // namespace fleet
