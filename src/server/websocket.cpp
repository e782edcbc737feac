#include "server/websocket.hpp"

#include <arpa/inet.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <chrono>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <thread>

namespace fleet::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

constexpr auto kReceiveSlice = std::chrono::milliseconds(200);
constexpr auto kLivenessEvery = std::chrono::seconds(2);

std::uint32_t read_u32(std::string_view data, std::size_t at) {
  std::uint32_t v;
  std::memcpy(&v, data.data() + at, sizeof v);
  return ntohl(v);
}

void put_u32(std::string& out, std::uint32_t v) {
  v = htonl(v);
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

nlohmann::json object_or_empty(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nlohmann::json::object();
  if (!it->is_object()) throw std::invalid_argument(std::string("\"") + key + "\" must be an object");
  return *it;
}

}  // namespace

KernelMessage client_message(std::string_view frame, bool binary) {
  std::vector<std::string> buffers;
  std::string_view json_part = frame;
  if (binary) {
    // [count][offset 0..count-1][JSON][buffer 1]...: offsets from the frame's start, the first the JSON's.
    if (frame.size() < 4) throw std::invalid_argument("a binary frame shorter than its buffer count");
    const std::uint32_t count = read_u32(frame, 0);
    if (count == 0 || count > 1024 || frame.size() < 4 * (std::size_t(count) + 1))
      throw std::invalid_argument("a binary frame with a bad buffer count");
    std::vector<std::size_t> offsets;
    for (std::uint32_t i = 0; i < count; ++i) offsets.push_back(read_u32(frame, 4 * (std::size_t(i) + 1)));
    offsets.push_back(frame.size());
    for (std::uint32_t i = 0; i < count; ++i)
      if (offsets[i] < 4 * (std::size_t(count) + 1) || offsets[i] > offsets[i + 1])
        throw std::invalid_argument("a binary frame with bad offsets");
    json_part = frame.substr(offsets[0], offsets[1] - offsets[0]);
    for (std::uint32_t i = 1; i < count; ++i)
      buffers.emplace_back(frame.substr(offsets[i], offsets[i + 1] - offsets[i]));
  }
  nlohmann::json j = nlohmann::json::parse(json_part, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::invalid_argument("a message must be a JSON object");
  if (!j.contains("channel") || !j["channel"].is_string())
    throw std::invalid_argument("a message needs its \"channel\" (shell, control or stdin)");
  KernelMessage m{.channel = j["channel"].get<std::string>(),
                  .header = object_or_empty(j, "header"),
                  .parent_header = object_or_empty(j, "parent_header"),
                  .metadata = object_or_empty(j, "metadata"),
                  .content = object_or_empty(j, "content"),
                  .buffers = std::move(buffers)};
  return m;
}

std::string client_frame(const KernelMessage& m, bool& binary) {
  nlohmann::json j = {{"channel", m.channel},
                      {"header", m.header},
                      {"parent_header", m.parent_header},
                      {"metadata", m.metadata},
                      {"content", m.content},
                      {"msg_id", m.header.value("msg_id", "")},
                      {"msg_type", m.header.value("msg_type", "")},
                      {"buffers", nlohmann::json::array()}};
  binary = !m.buffers.empty();
  if (!binary) return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  j.erase("buffers");
  const std::string json = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::size_t count = m.buffers.size() + 1;
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(count));
  std::size_t offset = 4 * (count + 1);
  put_u32(out, static_cast<std::uint32_t>(offset));
  offset += json.size();
  for (std::size_t i = 0; i + 1 < m.buffers.size(); ++i) {
    put_u32(out, static_cast<std::uint32_t>(offset));
    offset += m.buffers[i].size();
  }
  if (!m.buffers.empty()) put_u32(out, static_cast<std::uint32_t>(offset));
  out += json;
  for (const auto& b : m.buffers) out += b;
  return out;
}

KernelMessage status_message(const std::string& execution_state) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  static std::atomic<unsigned long> counter{0};
  return {.channel = "iopub",
          .header = {{"msg_id", "llmspell-fleet-status-" + std::to_string(++counter)},
                     {"msg_type", "status"},
                     {"session", "llmspell-fleet"},
                     {"username", "llmspell-fleet"},
                     {"date", date},
                     {"version", "5.3"}},
          .content = {{"execution_state", execution_state}}};
}

namespace {

// The WebSocket side, run on one thread (the io_context's): reads from the client, a queue of
// frames to write, and the close. The pump thread hands it frames through post().
class Bridge {
 public:
  Bridge(net::io_context& io, WebSocket& ws, KernelChannels& channels, const BridgeHooks& hooks)
      : io_(io), ws_(ws), channels_(channels), hooks_(hooks) {}

  std::string run() {
    // A ping every 10 s when the client is quiet: a notebook left open for hours keeps its kernel
    // connection, and a client that vanished without a close (its socket's end is seen when a ping
    // is written) is noticed within 10-20 s. A close handshake waits 5 s for the other side.
    ws_.set_option(websocket::stream_base::timeout{std::chrono::seconds(5), std::chrono::seconds(20), true});
    read();
    std::thread pump([this] { pump_kernel(); });
    io_.run();
    done_ = true;
    pump.join();
    return ended_;
  }

 private:
  void read() {
    ws_.async_read(in_, [this](beast::error_code ec, std::size_t) {
      if (ec) {
        finish(ec == websocket::error::closed ? "closed by the client" : "client gone: " + ec.message());
        return;
      }
      const std::string frame = beast::buffers_to_string(in_.data());
      const bool binary = !ws_.got_text();
      in_.consume(in_.size());
      try {
        channels_.send(client_message(frame, binary));
      } catch (const std::exception& e) {
        // Jupyter's protocol has no error channel: the message is dropped and the bridge goes on.
        if (hooks_.log) hooks_.log(std::string("dropped a client message: ") + e.what());
      }
      read();
    });
  }

  void write(std::string frame, bool binary) {
    if (closing_) return;
    out_.emplace_back(std::move(frame), binary);
    if (out_.size() == 1) write_next();
  }

  void write_next() {
    ws_.binary(out_.front().second);
    ws_.async_write(net::buffer(out_.front().first), [this](beast::error_code ec, std::size_t) {
      if (ec) {
        finish("client gone: " + ec.message());
        return;
      }
      out_.pop_front();
      if (!out_.empty())
        write_next();
      else if (close_after_writes_)
        close(close_reason_);
    });
  }

  // Closes once what is queued has been written.
  void close_when_written(websocket::close_reason reason) {
    if (closing_ || close_after_writes_) return;
    close_reason_ = reason;
    close_after_writes_ = true;
    if (out_.empty()) close(reason);
  }

  void close(const websocket::close_reason& reason) {
    if (closing_) return;
    closing_ = true;
    finish(std::string(reason.reason.data(), reason.reason.size()));
    ws_.async_close(reason, [this](beast::error_code) { beast::get_lowest_layer(ws_).close(); });
  }

  void finish(const std::string& why) {
    if (ended_.empty()) ended_ = why;
    done_ = true;
  }

  // Kernel -> client, on a thread of its own: ZeroMQ waits are blocking.
  void pump_kernel() {
    auto next_check = std::chrono::steady_clock::now() + kLivenessEvery;
    while (!done_) {
      try {
        if (auto m = channels_.receive(kReceiveSlice)) {
          bool binary = false;
          std::string frame = client_frame(*m, binary);
          net::post(io_, [this, f = std::move(frame), binary]() mutable { write(std::move(f), binary); });
        }
      } catch (const std::exception& e) {
        gone("kernel connection failed: " + std::string(e.what()));
        return;
      }
      if (hooks_.stopping && *hooks_.stopping) {
        net::post(io_, [this] {
          close_when_written(
              websocket::close_reason(websocket::close_code::going_away, "the fleet's server is stopping"));
        });
        return;
      }
      if (std::chrono::steady_clock::now() >= next_check && hooks_.kernel_gone) {
        next_check = std::chrono::steady_clock::now() + kLivenessEvery;
        std::string why = hooks_.kernel_gone();
        if (!why.empty()) {
          gone(why);
          return;
        }
      }
    }
  }

  void gone(const std::string& why) {
    bool binary = false;
    std::string dead = client_frame(status_message("dead"), binary);
    net::post(io_, [this, dead = std::move(dead), why] {
      write(dead, false);
      // A close reason is at most 123 bytes.
      close_when_written(websocket::close_reason(websocket::close_code::internal_error, why.substr(0, 120)));
    });
  }

  net::io_context& io_;
  WebSocket& ws_;
  KernelChannels& channels_;
  const BridgeHooks& hooks_;
  beast::flat_buffer in_;
  std::deque<std::pair<std::string, bool>> out_;
  bool closing_ = false, close_after_writes_ = false;
  websocket::close_reason close_reason_;
  std::atomic<bool> done_{false};
  std::string ended_;
};

}  // namespace

std::string bridge_channels(net::io_context& io, WebSocket& ws, KernelChannels& channels,
                            const BridgeHooks& hooks) {
  return Bridge(io, ws, channels, hooks).run();
}

}  // namespace fleet::server
