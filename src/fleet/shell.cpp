// shell: a command, or an interactive shell, inside one running container (a kernel or a replica).
#include "fleet/errors.hpp"
#include "fleet/operations.hpp"

namespace fleet {

int shell(Context& ctx, const ObservedContainer& c, const ShellOptions& r, const OutputSink& output) {
  if (c.state != "running") throw Conflict("container " + c.name + " is " + c.state + ", not running");
  engine::ExecOptions o{.cmd = r.command.empty() ? std::vector<std::string>{"/bin/sh"} : r.command,
                        .tty = r.tty,
                        .attach_stdin = r.stdin_fd >= 0};
  std::string exec_id = ctx.client.exec_create(c.id, o);
  auto sink = [&](const engine::OutputChunk& chunk) {
    return output(chunk.stream == engine::StreamId::Stderr ? Stream::Stderr : Stream::Stdout, chunk.data);
  };
  if (r.stdin_fd >= 0) {
    if (r.on_started) r.on_started(exec_id);
    ctx.client.exec_attach(exec_id, r.tty, r.stdin_fd, sink, r.tick);
  } else {
    ctx.client.exec_start(exec_id, r.tty, sink);
  }
  return ctx.client.exec_exit_code(exec_id);
}

}  // namespace fleet
