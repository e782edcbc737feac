#include "kernel/kernel.hpp"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fstream>
#include <iterator>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

namespace fleet::kernel {

using jupyter::decode;
using jupyter::Decoded;
using jupyter::encode;
using jupyter::iso8601_now;
using jupyter::kProtocolVersion;
using jupyter::make_child;
using jupyter::new_uuid;

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(100);
// How often control tries for the interpreter while a checkpoint or restore waits for it.
constexpr auto kWaitingPollInterval = std::chrono::milliseconds(10);
constexpr double kDefaultStateTimeout = 10;  // seconds

bool is_state_request(const std::string& type) {
  return type == "llmspell_checkpoint_request" || type == "llmspell_restore_request";
}

std::string reply_type(const std::string& request_type) {
  return request_type.substr(0, request_type.size() - std::strlen("request")) + "reply";
}

nlohmann::json error_content(const std::string& ename, const std::string& evalue) {
  return {{"status", "error"}, {"ename", ename}, {"evalue", evalue}, {"traceback", {ename + ": " + evalue}}};
}

// A signal (SIGTERM, SIGINT) interrupts zmq calls with EINTR, which cppzmq throws: that only means
// "look at the flags again", so it reads as "nothing happened".
bool wait_readable(zmq::pollitem_t* items, std::size_t count,
                   std::chrono::milliseconds timeout = kPollInterval) {
  try {
    return zmq::poll(items, count, timeout) > 0;
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    throw;
  }
}

std::vector<std::string> receive(zmq::socket_t& socket) {
  std::vector<zmq::message_t> parts;
  try {
    if (!zmq::recv_multipart(socket, std::back_inserter(parts), zmq::recv_flags::dontwait)) return {};
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return {};
    throw;
  }
  std::vector<std::string> frames;
  frames.reserve(parts.size());
  for (auto& p : parts) frames.emplace_back(p.to_string());
  return frames;
}

void send(zmq::socket_t& socket, const std::vector<std::string>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i)
    socket.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

// Binds to `port`, or to a port the system picks when it is 0; returns the bound port. Over ipc the
// "port" is a suffix of the socket file's path, as Jupyter names them: nothing to pick.
int bind_port(zmq::socket_t& socket, const std::string& transport, const std::string& ip, int port) {
  socket.set(zmq::sockopt::linger, 1000);  // replies already queued still go out at exit
  if (transport == "ipc") {
    if (!port) throw std::invalid_argument("the ipc transport needs the connection file's ports");
    socket.bind("ipc://" + ip + "-" + std::to_string(port));
    return port;
  }
  socket.bind(transport + "://" + ip + ":" + (port ? std::to_string(port) : std::string("*")));
  std::string endpoint = socket.get(zmq::sockopt::last_endpoint);
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

// Sends `socket`'s connection events to a PAIR socket we read. Set up before the bind, so that no
// accepted connection goes unseen.
std::unique_ptr<zmq::socket_t> watch_connections(zmq::context_t& context, zmq::socket_t& socket,
                                                 const std::string& name) {
  std::string address = "inproc://llmspell-monitor-" + name;
  if (zmq_socket_monitor(socket.handle(), address.c_str(), ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0)
    throw zmq::error_t();
  auto monitor = std::make_unique<zmq::socket_t>(context, zmq::socket_type::pair);
  monitor->connect(address);
  return monitor;
}

}  // namespace

Kernel::Kernel(KernelOptions options)
    : options_(std::move(options)),
      signer_(options_.connection.key, options_.connection.signature_scheme),
      session_(new_uuid()),
      started_at_(iso8601_now()),
      interpreter_(make_interpreter(options_.language)) {
  if (!interpreter_)
    throw std::invalid_argument("unknown language \"" + options_.language + "\" (lua or javascript)");
  last_activity_ = started_at_;
  if (options_.connection.kernel_name.empty())
    options_.connection.kernel_name = "llmspell-" + options_.language;
}

Kernel::~Kernel() = default;

void Kernel::run(const std::atomic<bool>& stop, std::atomic<bool>& interrupt) {
  stop_ = &stop;
  context_ = std::make_unique<zmq::context_t>(1);
  shell_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::router);
  control_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::router);
  stdin_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::router);
  iopub_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::pub);
  heartbeat_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::rep);
  wake_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::pair);
  wake_->bind("inproc://llmspell-wake");
  wake_writer_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::pair);
  wake_writer_->connect("inproc://llmspell-wake");
  shell_monitor_ = watch_connections(*context_, *shell_, "shell");
  iopub_monitor_ = watch_connections(*context_, *iopub_, "iopub");
  ConnectionInfo& c = options_.connection;
  c.shell_port = bind_port(*shell_, c.transport, options_.bind_ip, c.shell_port);
  c.iopub_port = bind_port(*iopub_, c.transport, options_.bind_ip, c.iopub_port);
  c.stdin_port = bind_port(*stdin_, c.transport, options_.bind_ip, c.stdin_port);
  c.control_port = bind_port(*control_, c.transport, options_.bind_ip, c.control_port);
  c.hb_port = bind_port(*heartbeat_, c.transport, options_.bind_ip, c.hb_port);
  if (!options_.connection_file.empty()) write_connection_file(options_.connection_file, c);
  spdlog::info("kernel {} ({}) ready: shell {} iopub {} stdin {} control {} hb {}, connection file {}",
               options_.kernel_id, interpreter_->language().name, c.shell_port, c.iopub_port, c.stdin_port,
               c.control_port, c.hb_port, options_.connection_file.string());
  publish_status(nullptr, "starting");
  {
    std::lock_guard lock(status_mutex_);
    execution_state_ = "idle";
  }
  write_status_file();

  // Signals go to this (the shell) thread only: the workers start with them blocked.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  std::thread execution([&] { execution_loop(stop); });
  std::thread control([&] { control_loop(stop, interrupt); });
  std::thread heartbeat([&] { heartbeat_loop(stop); });
  std::thread monitor([&] { monitor_loop(stop); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  shell_loop(stop);
  execution.join();
  control.join();
  heartbeat.join();
  monitor.join();
  {
    std::lock_guard lock(status_mutex_);
    execution_state_ = "stopped";
    clients_.clear();  // the sockets close next: a stopped kernel serves no one
    if (pending_ > 0) spdlog::info("{} queued execute requests not run", pending_);
    pending_ = 0;  // nor answers anything more
  }
  write_status_file();
  spdlog::info("kernel {} stopped", options_.kernel_id);
  // The monitors' inproc peers go before the watched sockets, so nothing waits on them at exit.
  shell_monitor_.reset();
  iopub_monitor_.reset();
  wake_writer_.reset();
  wake_.reset();
  shell_.reset();
  control_.reset();
  stdin_.reset();
  iopub_.reset();
  heartbeat_.reset();
  context_.reset();
}

// Stops reading new requests at a stop, but runs until the execution thread has finished the
// request it was running and its reply is sent.
void Kernel::shell_loop(const std::atomic<bool>& stop) {
  for (;;) {
    bool stopping = should_stop(stop);
    bool finished;
    {
      std::lock_guard lock(queue_mutex_);
      finished = execution_finished_;
    }
    send_shell_replies();
    if (finished) return;
    // Not stdin: the execution thread alone reads it, waiting for an input_reply (a ZeroMQ socket
    // is one thread's; this loop reading it too dropped answers at random).
    zmq::pollitem_t items[] = {{static_cast<void*>(*wake_), 0, ZMQ_POLLIN, 0},
                               {static_cast<void*>(*shell_), 0, ZMQ_POLLIN, 0}};
    if (!wait_readable(items, stopping ? 1 : 2)) continue;
    if (items[0].revents & ZMQ_POLLIN)
      while (!receive(*wake_).empty()) {
      }
    if (stopping) continue;
    if (items[1].revents & ZMQ_POLLIN) receive_shell_requests();
  }
}

// Everything readable now, in order of arrival: a request queued behind a running one is counted
// as pending at once.
void Kernel::receive_shell_requests() {
  bool counted = false;
  for (auto frames = receive(*shell_); !frames.empty(); frames = receive(*shell_)) {
    Decoded d = decode(frames, signer_);
    if (!d.message) {
      spdlog::warn("shell: dropped a message: {}", describe(*d.error));
      continue;
    }
    if (d.message->type() == "execute_request") {
      std::lock_guard lock(status_mutex_);
      ++pending_;
      counted = true;
    }
    {
      std::lock_guard lock(queue_mutex_);
      requests_.push_back(std::move(*d.message));
    }
    requests_queued_.notify_one();
  }
  if (counted) write_status_file();
}

// An execute request counts as answered when its reply leaves: a client that has the reply and
// asks for the status finds it no longer pending.
void Kernel::send_shell_replies() {
  std::deque<ShellReply> replies;
  {
    std::lock_guard lock(queue_mutex_);
    replies.swap(replies_);
  }
  bool counted = false;
  for (const ShellReply& r : replies) {
    if (r.answers_execute) {
      std::lock_guard lock(status_mutex_);
      pending_ = std::max(0L, pending_ - 1);
      counted = true;
    }
    send(*shell_, r.frames);
  }
  if (counted) write_status_file();
}

void Kernel::execution_loop(const std::atomic<bool>& stop) {
  while (!should_stop(stop)) {
    Message request;
    {
      std::unique_lock lock(queue_mutex_);
      if (!requests_queued_.wait_for(lock, kPollInterval, [&] { return !requests_.empty(); })) continue;
      request = std::move(requests_.front());
      requests_.pop_front();
    }
    // A checkpoint or restore waiting on control goes first: it needs the interpreter to itself.
    while (control_waiting_ && !should_stop(stop)) std::this_thread::sleep_for(kWaitingPollInterval / 2);
    std::lock_guard use(interpreter_use_);
    // A restart answered on control applies before the next request runs, even one that
    // arrived while this thread was running another.
    apply_pending_restart();
    handle(Via::shell, request);
    abort_executions();
  }
  {
    std::lock_guard lock(queue_mutex_);
    execution_finished_ = true;
  }
  wake_writer_->send(zmq::str_buffer("done"), zmq::send_flags::dontwait);
}

void Kernel::apply_pending_restart() {
  if (!restart_requested_.exchange(false)) return;
  auto fresh = make_interpreter(options_.language);
  {
    std::lock_guard swap_lock(interpreter_mutex_);
    interpreter_.swap(fresh);
  }
  {
    std::lock_guard history_lock(history_mutex_);
    history_.new_session();
  }
  std::lock_guard lock(status_mutex_);
  execution_count_ = 0;
  spdlog::info("kernel restarted: interpreter state cleared");
}

// Checkpoints and restores wait here for the interpreter (up to their timeout) while control keeps
// answering everything else: an interrupt for the very execution they wait on, say.
void Kernel::control_loop(const std::atomic<bool>& stop, std::atomic<bool>& interrupt) {
  while (!should_stop(stop)) {
    if (interrupt.exchange(false)) {  // SIGINT
      std::lock_guard lock(interpreter_mutex_);
      interpreter_->interrupt_requested = true;
    }
    serve_waiting_state_requests();
    zmq::pollitem_t items[] = {{static_cast<void*>(*control_), 0, ZMQ_POLLIN, 0}};
    if (!wait_readable(items, 1, waiting_.empty() ? kPollInterval : kWaitingPollInterval)) continue;
    auto frames = receive(*control_);
    Decoded d = decode(frames, signer_);
    if (!d.message) {
      spdlog::warn("control: dropped a message: {}", describe(*d.error));
      continue;
    }
    if (is_state_request(d.message->type())) {
      double timeout = kDefaultStateTimeout;
      if (auto t = d.message->content.find("timeout"); t != d.message->content.end() && t->is_number())
        timeout = std::clamp(t->get<double>(), 0.0, 3600.0);
      auto deadline =
          std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                 std::chrono::duration<double>(timeout));
      waiting_.push_back({std::move(*d.message), deadline});
      continue;
    }
    handle(Via::control, *d.message);
  }
  control_waiting_ = false;
  for (const WaitingRequest& w : waiting_)
    reply(Via::control, w.request, reply_type(w.request.type()),
          error_content("KernelStopping", "the kernel stopped before the interpreter was free"));
  waiting_.clear();
}

// Runs every waiting request if the interpreter is free now, else answers those out of time.
void Kernel::serve_waiting_state_requests() {
  if (waiting_.empty()) return;
  control_waiting_ = true;
  std::unique_lock use(interpreter_use_, std::try_to_lock);
  if (use.owns_lock()) {
    apply_pending_restart();  // a restart answered before this request is seen by it
    for (const WaitingRequest& w : waiting_) handle(Via::control, w.request);
    waiting_.clear();
  } else {
    auto now = std::chrono::steady_clock::now();
    std::erase_if(waiting_, [&](const WaitingRequest& w) {
      if (w.deadline > now) return false;
      reply(Via::control, w.request, reply_type(w.request.type()),
            error_content("KernelBusy", "the interpreter did not become free in time: code is running"));
      return true;
    });
  }
  if (waiting_.empty()) control_waiting_ = false;
}

// Called with interpreter_use_ held.
nlohmann::json Kernel::checkpoint_reply() {
  Checkpoint c = interpreter_->checkpoint();
  nlohmann::json skipped = nlohmann::json::array();
  for (const Skipped& s : c.skipped) skipped.push_back({{"name", s.name}, {"type", s.type}});
  spdlog::info("checkpoint: {} globals, {} tables, {} skipped", c.state["globals"].size(),
               c.state["tables"].size(), c.skipped.size());
  return {{"status", "ok"},
          {"language", interpreter_->language().name},
          {"state", std::move(c.state)},
          {"skipped", std::move(skipped)}};
}

// Called with interpreter_use_ held.
nlohmann::json Kernel::restore_reply(const Message& request) {
  auto state = request.content.find("state");
  if (state == request.content.end()) return error_content("InvalidState", "the request has no state");
  std::string language = interpreter_->language().name;
  if (state->is_object() && state->contains("language") && (*state)["language"].is_string() &&
      (*state)["language"] != language)
    return error_content("LanguageMismatch", "a " + (*state)["language"].get<std::string>() +
                                                 " state cannot be restored into a " + language + " kernel");
  try {
    std::vector<std::string> restored = interpreter_->restore(*state);
    spdlog::info("restore: {} globals", restored.size());
    return {{"status", "ok"}, {"restored", restored}};
  } catch (const std::invalid_argument& e) {
    return error_content("InvalidState", e.what());
  }
}

void Kernel::heartbeat_loop(const std::atomic<bool>& stop) {
  while (!should_stop(stop)) {
    zmq::pollitem_t items[] = {{static_cast<void*>(*heartbeat_), 0, ZMQ_POLLIN, 0}};
    if (!wait_readable(items, 1)) continue;
    auto frames = receive(*heartbeat_);
    if (!frames.empty()) send(*heartbeat_, frames);
  }
}

void Kernel::monitor_loop(const std::atomic<bool>& stop) {
  const std::pair<zmq::socket_t*, Channel> monitors[] = {{shell_monitor_.get(), Channel::shell},
                                                         {iopub_monitor_.get(), Channel::iopub}};
  while (!should_stop(stop)) {
    zmq::pollitem_t items[] = {{static_cast<void*>(*shell_monitor_), 0, ZMQ_POLLIN, 0},
                               {static_cast<void*>(*iopub_monitor_), 0, ZMQ_POLLIN, 0}};
    if (!wait_readable(items, 2)) continue;
    bool changed = false;
    for (std::size_t i = 0; i < 2; ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      auto [socket, channel] = monitors[i];
      // An event is two frames: the 16-bit event number with a 32-bit value (the connection's file
      // descriptor for these two events), then the endpoint.
      for (auto frames = receive(*socket); !frames.empty(); frames = receive(*socket)) {
        if (frames[0].size() < 6) continue;
        std::uint16_t event;
        std::uint32_t fd;
        std::memcpy(&event, frames[0].data(), sizeof event);
        std::memcpy(&fd, frames[0].data() + sizeof event, sizeof fd);
        std::lock_guard lock(status_mutex_);
        changed = clients_.on_event(channel, event, static_cast<int>(fd)) || changed;
      }
    }
    if (!changed) continue;
    write_status_file();
    std::lock_guard lock(status_mutex_);
    spdlog::debug("clients: {} (shell {}, iopub {})", clients_.clients(),
                  clients_.connections(Channel::shell), clients_.connections(Channel::iopub));
  }
}

void Kernel::handle(Via via, const Message& request) {
  const bool on_control = via == Via::control;
  const std::string type = request.type();
  spdlog::debug("{}: {}", on_control ? "control" : "shell", type);
  // Control requests do not make the kernel busy: they are answered while code runs.
  if (!on_control) set_execution_state("busy");
  publish_status(&request, "busy");

  if (type == "kernel_info_request") {
    reply(via, request, "kernel_info_reply", kernel_info());
  } else if (type == "execute_request") {
    execute(request);
  } else if (type == "is_complete_request") {
    std::string status = interpreter_->is_complete(request.content.value("code", ""));
    nlohmann::json content = {{"status", status}};
    if (status == "incomplete") content["indent"] = "";
    reply(via, request, "is_complete_reply", content);
  } else if (type == "complete_request") {
    std::string code = request.content.value("code", "");
    auto cursor = request.content.value("cursor_pos", code.size());
    Completion c = interpreter_->complete(code, cursor);
    reply(via, request, "complete_reply",
          {{"status", "ok"},
           {"matches", c.matches},
           {"cursor_start", c.cursor_start},
           {"cursor_end", c.cursor_end},
           {"metadata", nlohmann::json::object()}});
  } else if (type == "inspect_request") {
    std::string code = request.content.value("code", "");
    auto text = interpreter_->inspect(code, request.content.value("cursor_pos", code.size()));
    nlohmann::json data = nlohmann::json::object();
    if (text) data["text/plain"] = *text;
    reply(via, request, "inspect_reply",
          {{"status", "ok"},
           {"found", text.has_value()},
           {"data", data},
           {"metadata", nlohmann::json::object()}});
  } else if (type == "history_request") {
    reply(via, request, "history_reply", history_reply(request.content));
  } else if (type == "comm_open") {
    // No comm targets here: the frontend is told at once that its comm is closed, as ipykernel does.
    spdlog::info("comm_open for unknown target \"{}\": closed", request.content.value("target_name", ""));
    publish(request, "comm_close",
            {{"comm_id", request.content.value("comm_id", "")}, {"data", nlohmann::json::object()}});
  } else if (type == "comm_msg" || type == "comm_close") {
    // Comms we closed already: nothing to do.
  } else if (type == "comm_info_request") {
    reply(via, request, "comm_info_reply", {{"status", "ok"}, {"comms", nlohmann::json::object()}});
  } else if (type == "interrupt_request") {
    {
      std::lock_guard lock(interpreter_mutex_);
      interpreter_->interrupt_requested = true;
    }
    reply(via, request, "interrupt_reply", {{"status", "ok"}});
  } else if (type == "shutdown_request") {
    bool restart = request.content.value("restart", false);
    // Flagged before the reply: a client that acts on the reply must find the restart applied.
    if (restart)
      restart_requested_ = true;
    else
      shutdown_ = true;
    reply(via, request, "shutdown_reply", {{"status", "ok"}, {"restart", restart}});
  } else if (type == "llmspell_status_request") {
    reply(via, request, "llmspell_status_reply", status());
  } else if (type == "llmspell_checkpoint_request" && on_control) {
    reply(via, request, "llmspell_checkpoint_reply", checkpoint_reply());
  } else if (type == "llmspell_restore_request" && on_control) {
    reply(via, request, "llmspell_restore_reply", restore_reply(request));
  } else {
    spdlog::warn("{}: unsupported message type \"{}\"", on_control ? "control" : "shell", type);
  }

  if (!on_control) set_execution_state("idle");
  publish_status(&request, "idle");
}

void Kernel::set_execution_state(const std::string& state) {
  {
    std::lock_guard lock(status_mutex_);
    execution_state_ = state;
    last_activity_ = iso8601_now();
  }
  write_status_file();
}

void Kernel::execute(const Message& request) {
  std::string code = request.content.value("code", "");
  bool silent = request.content.value("silent", false);
  bool store_history = request.content.value("store_history", !silent) && !silent;
  bool allow_stdin = request.content.value("allow_stdin", true);
  long count;
  {
    std::lock_guard lock(status_mutex_);
    if (store_history) ++execution_count_;
    count = execution_count_;
  }
  if (!silent) publish(request, "execute_input", {{"code", code}, {"execution_count", count}});
  ExecutionIo io;
  if (!silent) {
    io.stream = [&](const std::string& name, const std::string& text) {
      publish(request, "stream", {{"name", name}, {"text", text}});
    };
    io.display = [&](const nlohmann::json& data) {
      publish(request, "display_data", {{"data", data}, {"metadata", nlohmann::json::object()}});
    };
    io.clear_output = [&](bool wait) { publish(request, "clear_output", {{"wait", wait}}); };
  }
  if (allow_stdin)
    io.input = [&](const std::string& prompt, bool password) {
      return request_input(request, prompt, password);
    };
  ExecutionResult result = interpreter_->execute(code, io);
  if (store_history) {
    std::lock_guard lock(history_mutex_);
    history_.add(count, code, result.value);
  }
  if (result.error) {
    const ExecutionError& e = *result.error;
    nlohmann::json error = {{"ename", e.ename}, {"evalue", e.evalue}, {"traceback", e.traceback}};
    if (!silent) publish(request, "error", error);
    error["status"] = "error";
    error["execution_count"] = count;
    // Taken before the reply leaves: what its sender sends once it sees the failure runs.
    if (!silent && request.content.value("stop_on_error", true)) take_queued_executions();
    reply(Via::shell, request, "execute_reply", error);
    return;
  }
  if (result.value && !silent)
    publish(request, "execute_result",
            {{"execution_count", count},
             {"data", {{"text/plain", *result.value}}},
             {"metadata", nlohmann::json::object()}});
  reply(Via::shell, request, "execute_reply",
        {{"status", "ok"},
         {"execution_count", count},
         {"user_expressions", nlohmann::json::object()},
         {"payload", nlohmann::json::array()}});
}

// Asks the client that sent `request` for a line on the stdin socket and waits for its answer, an
// interrupt or a stop.
Input Kernel::request_input(const Message& request, const std::string& prompt, bool password) {
  while (!receive(*stdin_).empty()) {
  }  // answers to earlier prompts that came too late
  Message ask = make_child(request, "input_request", session_, {{"prompt", prompt}, {"password", password}});
  ask.identities = request.identities;
  send(*stdin_, encode(ask, signer_));
  while (true) {
    if (interpreter_->interrupt_requested || should_stop(*stop_)) return {Input::Status::interrupted, {}};
    zmq::pollitem_t items[] = {{static_cast<void*>(*stdin_), 0, ZMQ_POLLIN, 0}};
    if (!wait_readable(items, 1)) continue;
    Decoded d = decode(receive(*stdin_), signer_);
    if (!d.message) {
      spdlog::warn("stdin: dropped a message: {}", describe(*d.error));
      continue;
    }
    // jupyter_client sends its input_reply without a parent: the one prompt open is the one answered.
    if (d.message->type() == "input_reply") return {Input::Status::ok, d.message->content.value("value", "")};
  }
}

// As ipykernel does after an error with stop_on_error: execute requests already received are
// answered "aborted" without running (they were written expecting the failed one to succeed).
// Other requests stay queued.
void Kernel::take_queued_executions() {
  std::lock_guard lock(queue_mutex_);
  std::deque<Message> kept;
  for (Message& m : requests_) {
    if (m.type() == "execute_request")
      aborted_.push_back(std::move(m));
    else
      kept.push_back(std::move(m));
  }
  requests_.swap(kept);
}

void Kernel::abort_executions() {
  for (const Message& m : aborted_) {
    spdlog::info("aborting execute request {}: an earlier one failed", m.header.value("msg_id", ""));
    publish_status(&m, "busy");
    reply(Via::shell, m, "execute_reply", {{"status", "aborted"}});
    publish_status(&m, "idle");
  }
  aborted_.clear();
}

nlohmann::json Kernel::history_reply(const nlohmann::json& request) const {
  const std::string access = request.value("hist_access_type", "tail");
  auto number = [&](const char* key) -> std::optional<long> {
    auto v = request.find(key);
    if (v == request.end() || !v->is_number_integer()) return std::nullopt;
    return v->get<long>();
  };
  std::vector<HistoryEntry> entries;
  {
    std::lock_guard lock(history_mutex_);
    if (access == "tail") {
      entries = history_.tail(static_cast<std::size_t>(std::max(0L, number("n").value_or(10))));
    } else if (access == "range") {
      entries = history_.range(static_cast<int>(number("session").value_or(0)), number("start").value_or(1),
                               number("stop"));
    } else if (access == "search") {
      auto n = number("n");
      entries = history_.search(request.value("pattern", "*"),
                                n ? std::optional<std::size_t>(std::max(0L, *n)) : std::nullopt,
                                request.value("unique", false));
    }
  }
  return {{"status", "ok"}, {"history", history_json(entries, request.value("output", false))}};
}

// Control replies go out at once (this is the control thread); shell replies through the shell
// thread, the only one that may use the shell socket.
void Kernel::reply(Via via, const Message& request, const std::string& type, nlohmann::json content) {
  Message m = make_child(request, type, session_, std::move(content));
  m.identities = request.identities;
  auto frames = encode(m, signer_);
  if (via == Via::control) {
    send(*control_, frames);
    return;
  }
  {
    std::lock_guard lock(queue_mutex_);
    replies_.push_back({std::move(frames), type == "execute_reply"});
  }
  // One wake message unread is enough: a full pipe is no reason to wait.
  wake_writer_->send(zmq::str_buffer("reply"), zmq::send_flags::dontwait);
}

void Kernel::publish(const Message& parent, const std::string& type, nlohmann::json content) {
  Message m = make_child(parent, type, session_, std::move(content));
  m.identities = {"kernel." + session_ + "." + type};
  auto frames = encode(m, signer_);
  std::lock_guard lock(iopub_mutex_);
  send(*iopub_, frames);
}

void Kernel::publish_status(const Message* parent, const std::string& state) {
  if (parent) {
    publish(*parent, "status", {{"execution_state", state}});
    return;
  }
  Message none;
  none.header = nlohmann::json::object();
  publish(none, "status", {{"execution_state", state}});
}

nlohmann::json Kernel::kernel_info() const {
  LanguageInfo lang;
  {
    std::lock_guard lock(interpreter_mutex_);
    lang = interpreter_->language();
  }
  std::string banner = "LLMSpell kernel " + options_.kernel_id + " (" + lang.name + " " + lang.version + ")";
  for (const char* key : {"provider", "model"})
    if (options_.config.contains(key) && options_.config[key].is_string())
      banner += std::string(", ") + key + " " + options_.config[key].get<std::string>();
  return {{"status", "ok"},
          {"protocol_version", kProtocolVersion},
          {"implementation", "llmspell-kernel"},
          {"implementation_version", KERNEL_VERSION},
          {"language_info",
           {{"name", lang.name},
            {"version", lang.version},
            {"mimetype", lang.mimetype},
            {"file_extension", lang.file_extension},
            {"pygments_lexer", lang.pygments_lexer},
            {"codemirror_mode", lang.name}}},
          {"banner", banner},
          {"help_links", nlohmann::json::array()},
          {"debugger", false},
          {"llmspell", {{"kernel_id", options_.kernel_id}, {"config", options_.config}}}};
}

nlohmann::json Kernel::status() const {
  std::lock_guard lock(status_mutex_);
  nlohmann::json s = {{"kernel_id", options_.kernel_id},     {"language", options_.language},
                      {"execution_state", execution_state_}, {"last_activity", last_activity_},
                      {"execution_count", execution_count_}, {"pending", pending_},
                      {"started_at", started_at_},           {"pid", static_cast<long>(::getpid())}};
  s.update(clients_.to_json());
  return s;
}

void Kernel::write_status_file() {
  if (options_.state_dir.empty()) return;
  // Readers (the fleet, through the engine's archive API) see the old or the new file, never half.
  auto path = options_.state_dir / "status.json";
  auto temp = options_.state_dir / ".status.json.tmp";
  // One writer at a time through the shared temp file; the status is read under this lock, so the
  // last rename carries the newest state.
  std::lock_guard lock(status_file_mutex_);
  {
    std::ofstream out(temp, std::ios::trunc);
    out << status().dump() << "\n";
    if (!out) {
      spdlog::warn("cannot write {}", temp.string());
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) spdlog::warn("cannot write {}: {}", path.string(), ec.message());
}

}  // namespace fleet::kernel
