// The WebSocket of GET /api/kernels/{id}/channels: Jupyter messages between a client and a kernel's
// ZeroMQ channels, as Jupyter Server's own kernel WebSocket carries them. Text frames are a JSON
// message with its `channel` (shell, control, stdin from the client; iopub too from the kernel); a
// message with binary buffers travels as one binary frame (a count, offsets, the JSON, the buffers).
// Each WebSocket has its own connection to the kernel, so every client sees all of its iopub, a
// client's stdin requests come back to it, and what a client held goes when it goes.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "fleet/fleet.hpp"

namespace fleet::server {

// A client's frame as a message (std::invalid_argument saying what is wrong with it).
KernelMessage client_message(std::string_view frame, bool binary);
// A kernel's message as the frame a client receives; `binary` says which kind it is.
std::string client_frame(const KernelMessage& m, bool& binary);
// An iopub status message of this kernel's own making (Jupyter Server sends "dead" when a kernel dies).
KernelMessage status_message(const std::string& execution_state);

using WebSocket = boost::beast::websocket::stream<boost::asio::ip::tcp::socket>;

struct BridgeHooks {
  // Asked every couple of seconds: why the kernel is gone ("exited (code 137)"), empty while it runs.
  std::function<std::string()> kernel_gone;
  const std::atomic<bool>* stopping = nullptr;  // the server is shutting down
  std::function<void(const std::string&)> log;
};

// Carries messages both ways on an accepted WebSocket of `io` (run here, by nobody else) until the
// client closes it, the kernel goes (iopub status "dead", then a close saying why) or the server
// stops (close "going away"). Returns how it ended.
std::string bridge_channels(boost::asio::io_context& io, WebSocket& ws, KernelChannels& channels,
                            const BridgeHooks& hooks);

}  // namespace fleet::server
