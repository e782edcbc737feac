// shell: a command, or an interactive shell, inside one container of a service.
#include <algorithm>

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
  return ctx.client.exec_exit_code(exec_id);
}

}  // namespace fleet
