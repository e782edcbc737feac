// The Jupyter kernel server: five ZeroMQ sockets, one thread each for shell, control and heartbeat.
// The shell thread owns the shell socket and keeps receiving while code runs: requests queue up for
// an execution thread that runs them in order and hands its replies back to the shell thread
// (a queue and an inproc wake socket). Control answers while code runs (interrupt, shutdown,
// status); a checkpoint or restore waits there, up to a timeout, for the interpreter to be free,
// without holding up the other control requests. iopub is shared under a lock. Code that asks for
// input waits on the stdin socket, which only the execution thread uses. A further thread
// reads the shell and iopub socket monitors to count connected clients. Busy/idle, the time of the
// last activity, the execute requests not yet answered and the client count go to a status file
// the fleet reads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jupyter/wire.hpp"
#include "kernel/clients.hpp"
#include "kernel/connection_file.hpp"
#include "kernel/history.hpp"
#include "kernel/interpreter.hpp"

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace fleet::kernel {

using jupyter::Message;
using jupyter::Signer;

struct KernelOptions {
  ConnectionInfo connection;  // ports 0 are chosen at bind time
  std::string bind_ip = "0.0.0.0";
  std::filesystem::path connection_file;  // written once the sockets are bound; empty: not written
  std::string language = "lua";
  std::string kernel_id;
  nlohmann::json config = nlohmann::json::object();  // the TOML config, secrets redacted
  std::filesystem::path state_dir;                   // status.json goes here; empty: none
};

class Kernel {
 public:
  explicit Kernel(KernelOptions options);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // Binds, writes the connection file, serves until a shutdown request or `stop` turns true;
  // a running execution is finished and answered first. `interrupt` is polled and forwarded.
  void run(const std::atomic<bool>& stop, std::atomic<bool>& interrupt);
  const ConnectionInfo& connection() const { return options_.connection; }

 private:
  // Where a request came from, so its reply goes back the same way.
  enum class Via { shell, control };
  struct ShellReply {
    std::vector<std::string> frames;
    bool answers_execute = false;
  };

  void shell_loop(const std::atomic<bool>& stop);
  void receive_shell_requests();
  void send_shell_replies();
  void execution_loop(const std::atomic<bool>& stop);
  void apply_pending_restart();
  void control_loop(const std::atomic<bool>& stop, std::atomic<bool>& interrupt);
  void serve_waiting_state_requests();
  nlohmann::json checkpoint_reply();
  nlohmann::json restore_reply(const Message& request);
  void heartbeat_loop(const std::atomic<bool>& stop);
  void monitor_loop(const std::atomic<bool>& stop);
  bool should_stop(const std::atomic<bool>& stop) const { return stop.load() || shutdown_.load(); }

  void handle(Via via, const Message& request);
  void execute(const Message& request);
  Input request_input(const Message& request, const std::string& prompt, bool password);
  void take_queued_executions();
  void abort_executions();
  nlohmann::json history_reply(const nlohmann::json& request) const;
  void reply(Via via, const Message& request, const std::string& type, nlohmann::json content);
  void publish(const Message& parent, const std::string& type, nlohmann::json content);
  void publish_status(const Message* parent, const std::string& state);
  nlohmann::json kernel_info() const;
  nlohmann::json status() const;
  void write_status_file();
  // busy/idle with the time of this activity, into the status file too.
  void set_execution_state(const std::string& state);

  KernelOptions options_;
  Signer signer_;
  std::string session_;
  std::string started_at_;
  std::unique_ptr<Interpreter> interpreter_;  // only the execution thread replaces it (restart)...
  mutable std::mutex interpreter_mutex_;      // ...under this lock, which control takes to reach it
  // The interpreter runs one thing at a time: the execution thread holds this while it runs a shell
  // request, the control thread while it checkpoints or restores.
  std::mutex interpreter_use_;
  // Control waits for the interpreter: the execution thread lets it in before its next request.
  std::atomic<bool> control_waiting_{false};
  struct WaitingRequest {
    Message request;
    std::chrono::steady_clock::time_point deadline;
  };
  std::vector<WaitingRequest> waiting_;  // checkpoints and restores; the control thread's only
  std::unique_ptr<zmq::context_t> context_;
  std::unique_ptr<zmq::socket_t> shell_, control_, stdin_, iopub_, heartbeat_;
  std::unique_ptr<zmq::socket_t> shell_monitor_, iopub_monitor_;  // read by the monitor thread only
  // An inproc PAIR: the execution thread writes to wake_writer_ when it queued a reply; the shell
  // thread polls wake_ beside the shell socket.
  std::unique_ptr<zmq::socket_t> wake_, wake_writer_;
  std::mutex queue_mutex_;
  std::condition_variable requests_queued_;
  std::deque<Message> requests_;     // received on shell, not yet run
  std::deque<ShellReply> replies_;   // produced by the execution thread, not yet sent
  bool execution_finished_ = false;  // the execution thread ran its last request
  std::mutex iopub_mutex_;
  mutable std::mutex status_mutex_;
  std::string execution_state_ = "starting";
  std::string last_activity_;
  long execution_count_ = 0;
  long pending_ = 0;  // execute requests received and not yet answered, the running one included
  ClientCount clients_;
  std::mutex status_file_mutex_;             // shell and monitor threads both rewrite the file
  const std::atomic<bool>* stop_ = nullptr;  // run's, for the waits inside an execution
  std::atomic<bool> shutdown_{false};
  // Execute requests queued behind one that failed with stop_on_error, to answer "aborted".
  std::vector<Message> aborted_;  // the execution thread's only
  mutable std::mutex history_mutex_;
  History history_;
  std::atomic<bool> restart_requested_{false};
};

}  // namespace fleet::kernel
