// One client's connection to a kernel's message channels, for a bridge that carries Jupyter
// messages elsewhere (the gateway's WebSocket). shell, control and stdin are DEALERs sharing one
// routing identity, as jupyter_client's are, so the kernel's input_request comes back to the client
// whose execute_request asked for it; iopub is a SUB to everything, so every client sees all output.
//
// Threads: receive() is called from one thread, which owns the sockets; send() may be called from
// any thread: the message is queued and that thread woken to send it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "jupyter/wire.hpp"

namespace fleet::jupyter {

struct ChannelMessage {
  std::string channel;  // shell, control, stdin (to the kernel); shell, control, stdin, iopub (from it)
  Message message;
};

class Channels {
 public:
  // `connection`: a connection file's content (ip, transport, the four ports, key, signature_scheme).
  // Throws std::runtime_error naming what is missing or unsupported.
  explicit Channels(const nlohmann::json& connection);
  ~Channels();
  Channels(const Channels&) = delete;
  Channels& operator=(const Channels&) = delete;

  // A SUB socket misses what is published before its subscription reaches the kernel: this asks for
  // kernel_info on control (answered even while code runs) until an iopub message shows the
  // subscription is in place, dropping those answers. False when none came within `timeout`.
  bool wait_for_iopub(std::chrono::milliseconds timeout);
  // Signs and sends `m` on shell, control or stdin (std::invalid_argument for another channel).
  void send(ChannelMessage m);
  // The next message from the kernel within `timeout`, its signature checked (messages signed with
  // another key are dropped); sends what send() queued meanwhile.
  std::optional<ChannelMessage> receive(std::chrono::milliseconds timeout);
  // How many messages from the kernel were dropped as unsigned, badly signed or malformed.
  std::size_t dropped() const;

 private:
  std::optional<ChannelMessage> next(std::chrono::milliseconds timeout);
  struct Sockets;
  std::unique_ptr<Sockets> s_;
};

}  // namespace fleet::jupyter
