// shell: a command, or an interactive shell, inside one container of a service.
#include <algorithm>
#include <thread>

#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/project.hpp"

namespace fleet {

int shell(ProjectContext& ctx, const ShellRequest& r, const engine::OutputSink& output,
          std::function<void(const std::string&)> on_started) {
  if (!ctx.project.services.count(r.service)) throw InvalidInput("no such service: " + r.service);
  std::string id, name, state;
  for (const auto& c : project_containers(ctx.client, ctx.project.name))
    if (c.labels.at(labels::kComposeService) == r.service &&
        c.labels.at(labels::kComposeNumber) == std::to_string(r.index)) {
      id = c.id;
      name = c.name();
      state = c.state;
    }
  if (id.empty())
    throw InvalidInput("service " + r.service + " has no container number " + std::to_string(r.index) +
                       " (see `llmspell-fleet ps`)");
  if (state != "running") throw InvalidInput("container " + name + " is " + state + ", not running");

  engine::ExecOptions o{.cmd = r.command.empty() ? std::vector<std::string>{"/bin/sh"} : r.command,
                        .tty = r.tty,
                        .attach_stdin = r.stdin_fd >= 0};
  std::string exec_id = ctx.client.exec_create(id, o);
  if (r.stdin_fd >= 0) {
    if (on_started) on_started(exec_id);
    ctx.client.exec_attach(exec_id, r.tty, r.stdin_fd, output, r.tick);
  } else {
    ctx.client.exec_start(exec_id, r.tty, output);
  }
  // The engine records the exit code a moment after the output ends.
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto inspect = ctx.client.exec_inspect(exec_id);
    if (inspect.exit_code) return *inspect.exit_code;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw OperationFailed("the command in " + name + " ended but its exit code never arrived");
}

}  // namespace fleet
