// A running kernel reached through its own sockets: a client's channels (the gateway's WebSocket
// bridge), interrupt and restart on its control channel.
#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "fleet/checkpoints.hpp"
#include "fleet/errors.hpp"
#include "fleet/operations.hpp"
#include "jupyter/channels.hpp"

namespace fleet {
namespace {

constexpr auto kControlTimeout = std::chrono::seconds(10);
constexpr auto kIopubTimeout = std::chrono::milliseconds(10000);

ObservedContainer running_kernel(Context& ctx, const std::string& name) {
  ObservedContainer k = resolve(ctx, nullptr, {name}, Resolve::KernelsOnly).front();
  if (k.state != "running") throw Conflict("kernel " + k.kernel_id + " is " + k.state + ", not running");
  return k;
}

class Channels final : public KernelChannels {
 public:
  explicit Channels(const nlohmann::json& connection) : channels_(connection) {}

  bool wait_for_iopub(std::chrono::milliseconds timeout) { return channels_.wait_for_iopub(timeout); }

  void send(KernelMessage m) override {
    if (!m.header.is_object() || !m.header.contains("msg_type") || !m.header["msg_type"].is_string())
      throw InvalidInput("a message needs a header with a msg_type");
    jupyter::ChannelMessage out{.channel = m.channel};
    out.message.header = std::move(m.header);
    out.message.parent_header = std::move(m.parent_header);
    out.message.metadata = std::move(m.metadata);
    out.message.content = std::move(m.content);
    out.message.buffers = std::move(m.buffers);
    try {
      channels_.send(std::move(out));
    } catch (const std::invalid_argument& e) {
      throw InvalidInput(e.what());
    }
  }

  std::optional<KernelMessage> receive(std::chrono::milliseconds timeout) override {
    auto in = channels_.receive(timeout);
    if (!in) return std::nullopt;
    return KernelMessage{.channel = in->channel,
                         .header = std::move(in->message.header),
                         .parent_header = std::move(in->message.parent_header),
                         .metadata = std::move(in->message.metadata),
                         .content = std::move(in->message.content),
                         .buffers = std::move(in->message.buffers)};
  }

 private:
  jupyter::Channels channels_;
};

}  // namespace

std::unique_ptr<KernelChannels> open_channels(Context& ctx, const std::string& name) {
  ObservedContainer k = running_kernel(ctx, name);
  try {
    auto channels = std::make_unique<Channels>(kernel_connection(ctx, k.kernel_id));
    if (!channels->wait_for_iopub(kIopubTimeout))
      throw OperationFailed(k.kernel_id + ": its iopub channel published nothing within " +
                            std::to_string(kIopubTimeout.count()) + " ms");
    return channels;
  } catch (const std::runtime_error& e) {
    throw OperationFailed(k.kernel_id + ": " + e.what());
  }
}

void interrupt_kernel(Context& ctx, const std::string& name) {
  kernel_control_request(ctx, running_kernel(ctx, name), "interrupt_request", nlohmann::json::object(),
                         kControlTimeout);
}

void restart_kernel(Context& ctx, const std::string& name) {
  kernel_control_request(ctx, running_kernel(ctx, name), "shutdown_request", {{"restart", true}},
                         kControlTimeout);
}

}  // namespace fleet
