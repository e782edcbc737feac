// Exec endpoints: commands run inside a running container.
#include "engine/client.hpp"

#include <thread>

namespace fleet::engine {

std::string Client::exec_create(const std::string& container_id, const ExecOptions& options) {
  nlohmann::json body = {{"Cmd", options.cmd},
                         {"Tty", options.tty},
                         {"AttachStdin", options.attach_stdin},
                         {"AttachStdout", options.attach_stdout},
                         {"AttachStderr", options.attach_stderr}};
  if (!options.env.empty()) body["Env"] = options.env;
  if (!options.user.empty()) body["User"] = options.user;
  if (!options.working_dir.empty()) body["WorkingDir"] = options.working_dir;
  return call_json(json_call("POST", "/containers/" + path_segment(container_id) + "/exec", body,
                             "exec in container " + container_id))
      .at("Id")
      .get<std::string>();
}

void Client::exec_start(const std::string& exec_id, bool tty, const OutputSink& sink) {
  // Without an Upgrade header the engine streams the output and closes the connection at the end.
  Call c = json_call("POST", "/exec/" + path_segment(exec_id) + "/start", {{"Detach", false}, {"Tty", tty}},
                     "start exec " + exec_id);
  c.timeout = std::chrono::milliseconds{0};
  read_output(std::move(c), tty, sink);
}

ExecInspect Client::exec_inspect(const std::string& exec_id) {
  return call_json({.path = "/exec/" + path_segment(exec_id) + "/json", .what = "inspect exec " + exec_id})
      .get<ExecInspect>();
}

ExecRunResult Client::exec_run(const std::string& container_id, const ExecOptions& options) {
  std::string id = exec_create(container_id, options);
  ExecRunResult result;
  exec_start(id, options.tty, [&](const OutputChunk& chunk) {
    (chunk.stream == StreamId::Stderr ? result.stderr_text : result.stdout_text).append(chunk.data);
    return true;
  });
  // The stream ends when the process does; the engine records the exit code a moment later.
  for (int attempt = 0; attempt < 50; ++attempt) {
    ExecInspect inspect = exec_inspect(id);
    if (inspect.exit_code) {
      result.exit_code = *inspect.exit_code;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return result;
}

}  // namespace fleet::engine
