// Exec endpoints: commands run inside a running container.
#include "engine/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "util/poll.hpp"

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
  if (options.privileged) body["Privileged"] = true;
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

void Client::exec_start_detached(const std::string& exec_id) {
  call(json_call("POST", "/exec/" + path_segment(exec_id) + "/start", {{"Detach", true}, {"Tty", false}},
                 "start exec " + exec_id));
}

void Client::exec_attach(const std::string& exec_id, bool tty, int stdin_fd, const OutputSink& sink,
                         const std::function<void()>& tick) {
  auto conn = transport_.connect_raw();
  std::string body = nlohmann::json{{"Detach", false}, {"Tty", tty}}.dump();
  conn->send_all("POST /v" + api_version().str() + "/exec/" + path_segment(exec_id) +
                 "/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n"
                 "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body);

  bool keep_going = true;
  MuxDecoder decoder([&](StreamId stream, std::string_view data) {
    if (keep_going) keep_going = sink({stream, data});
  });
  auto deliver = [&](std::string_view data) {
    if (tty)
      keep_going = keep_going && sink({StreamId::Stdout, data});
    else
      decoder.feed(data);
  };

  std::string head;  // the HTTP answer before the stream
  bool upgraded = false, input_open = stdin_fd >= 0;
  char buffer[16384];
  while (keep_going) {
    pollfd fds[2] = {{conn->fd(), POLLIN, 0}, {input_open && upgraded ? stdin_fd : -1, POLLIN, 0}};
    int ready = ::poll(fds, 2, 200);
    int poll_errno = errno;  // tick() makes calls of its own that overwrite errno
    if (tick) tick();
    if (ready < 0 && poll_errno != EINTR)
      throw ConnectionError(std::string("waiting on an attached exec failed: ") + std::strerror(poll_errno));
    if (ready <= 0) continue;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(conn->fd(), buffer, sizeof buffer, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) break;  // the process ended and the engine closed the stream
      std::string_view data(buffer, static_cast<std::size_t>(n));
      if (!upgraded) {
        head.append(data);
        auto end = head.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        long status = head.size() > 12 ? std::atol(head.c_str() + 9) : 0;
        if (status != 101 && status != 200)
          throw_for_status(status, head.substr(end + 4), "attach to exec " + exec_id);
        upgraded = true;
        if (end + 4 < head.size()) deliver(std::string_view(head).substr(end + 4));
        continue;
      }
      deliver(data);
    }
    if (fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP))) {
      ssize_t n = ::read(stdin_fd, buffer, sizeof buffer);
      if (n > 0) {
        conn->send_all(std::string_view(buffer, static_cast<std::size_t>(n)));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        input_open = false;
        conn->finish_sending();
      }
    }
  }
}

void Client::exec_resize(const std::string& exec_id, int rows, int columns) {
  Call c{.method = "POST",
         .path = "/exec/" + path_segment(exec_id) + "/resize",
         .what = "resize exec " + exec_id};
  c.query.add("h", rows).add("w", columns);
  call(std::move(c));
}

ExecInspect Client::exec_inspect(const std::string& exec_id) {
  return call_json({.path = "/exec/" + path_segment(exec_id) + "/json", .what = "inspect exec " + exec_id})
      .get<ExecInspect>();
}

int Client::exec_exit_code(const std::string& exec_id) {
  // The output ends when the process does; the engine records the exit code a moment later.
  std::optional<int> code;
  util::poll_until(
      [&] {
        code = exec_inspect(exec_id).exit_code;
        return code.has_value();
      },
      {.timeout = std::chrono::seconds(2), .interval = std::chrono::milliseconds(20)});
  if (!code)
    throw ProtocolError("exec " + exec_id +
                        ": its output ended but the engine recorded no exit code within 2 s");
  return *code;
}

ExecRunResult Client::exec_run(const std::string& container_id, const ExecOptions& options) {
  std::string id = exec_create(container_id, options);
  ExecRunResult result;
  exec_start(id, options.tty, [&](const OutputChunk& chunk) {
    (chunk.stream == StreamId::Stderr ? result.stderr_text : result.stdout_text).append(chunk.data);
    return true;
  });
  result.exit_code = exec_exit_code(id);
  return result;
}

}  // namespace fleet::engine
