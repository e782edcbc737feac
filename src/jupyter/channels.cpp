#include "jupyter/channels.hpp"

#include <atomic>
#include <deque>
#include <iterator>
#include <mutex>
#include <set>
#include <stdexcept>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "jupyter/signer.hpp"

namespace fleet::jupyter {
namespace {

std::string address(const nlohmann::json& c, const char* port_key) {
  auto port = c.find(port_key);
  if (port == c.end() || !port->is_number_integer() || port->get<int>() <= 0)
    throw std::runtime_error(std::string("the connection has no ") + port_key);
  return c.value("transport", std::string("tcp")) + "://" + c.value("ip", std::string("127.0.0.1")) + ":" +
         std::to_string(port->get<int>());
}

std::string key_of(const nlohmann::json& c) {
  const std::string key = c.value("key", std::string());
  const std::string scheme = c.value("signature_scheme", std::string("hmac-sha256"));
  if (!key.empty() && scheme != "hmac-sha256")
    throw std::runtime_error("unsupported signature scheme \"" + scheme + "\"");
  return key;
}

}  // namespace

struct Channels::Sockets {
  explicit Sockets(const nlohmann::json& c)
      : signer(key_of(c)),
        shell(context, zmq::socket_type::dealer),
        control(context, zmq::socket_type::dealer),
        stdin_(context, zmq::socket_type::dealer),
        iopub(context, zmq::socket_type::sub),
        wake_reader(context, zmq::socket_type::pair),
        wake_writer(context, zmq::socket_type::pair) {
    const std::string identity = new_uuid();
    for (auto* s : {&shell, &control, &stdin_}) {
      s->set(zmq::sockopt::linger, 0);
      s->set(zmq::sockopt::routing_id, identity);
    }
    iopub.set(zmq::sockopt::linger, 0);
    iopub.set(zmq::sockopt::subscribe, "");
    shell.connect(address(c, "shell_port"));
    control.connect(address(c, "control_port"));
    stdin_.connect(address(c, "stdin_port"));
    iopub.connect(address(c, "iopub_port"));
    const std::string wake = "inproc://wake-" + identity;
    wake_reader.bind(wake);
    wake_writer.connect(wake);
  }

  Signer signer;
  zmq::context_t context{1};
  zmq::socket_t shell, control, stdin_, iopub;
  zmq::socket_t wake_reader, wake_writer;  // send() -> the receiving thread
  std::mutex outbox_mu;                    // the outbox and wake_writer
  std::deque<std::pair<zmq::socket_t*, std::vector<std::string>>> outbox;
  std::atomic<std::size_t> dropped{0};
  std::set<std::string> nudges;  // msg_ids of wait_for_iopub's requests

  void flush_outbox() {
    std::deque<std::pair<zmq::socket_t*, std::vector<std::string>>> out;
    {
      std::lock_guard lock(outbox_mu);
      out.swap(outbox);
    }
    for (auto& [socket, frames] : out)
      for (std::size_t i = 0; i < frames.size(); ++i)
        socket->send(zmq::buffer(frames[i]),
                     i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
};

Channels::Channels(const nlohmann::json& connection) {
  try {
    s_ = std::make_unique<Sockets>(connection);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(std::string("cannot connect to the kernel: ") + e.what());
  }
}

Channels::~Channels() = default;

void Channels::send(ChannelMessage m) {
  zmq::socket_t* socket = m.channel == "shell"     ? &s_->shell
                          : m.channel == "control" ? &s_->control
                          : m.channel == "stdin"   ? &s_->stdin_
                                                   : nullptr;
  if (!socket)
    throw std::invalid_argument("a client sends on shell, control or stdin, not \"" + m.channel + "\"");
  m.message.identities.clear();
  auto frames = encode(m.message, s_->signer);
  std::lock_guard lock(s_->outbox_mu);
  s_->outbox.emplace_back(socket, std::move(frames));
  s_->wake_writer.send(zmq::str_buffer("!"), zmq::send_flags::dontwait);
}

std::optional<ChannelMessage> Channels::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto m = next(std::max(left, std::chrono::milliseconds(0)));
    // The late replies and statuses of wait_for_iopub's nudges are dropped.
    if (!m || !s_->nudges.count(m->message.parent_header.value("msg_id", ""))) return m;
  }
}

std::optional<ChannelMessage> Channels::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  struct Source {
    zmq::socket_t* socket;
    const char* channel;
  };
  const Source sources[] = {
      {&s_->iopub, "iopub"}, {&s_->shell, "shell"}, {&s_->control, "control"}, {&s_->stdin_, "stdin"}};
  for (;;) {
    s_->flush_outbox();
    zmq::pollitem_t items[] = {{static_cast<void*>(s_->wake_reader), 0, ZMQ_POLLIN, 0},
                               {static_cast<void*>(s_->iopub), 0, ZMQ_POLLIN, 0},
                               {static_cast<void*>(s_->shell), 0, ZMQ_POLLIN, 0},
                               {static_cast<void*>(s_->control), 0, ZMQ_POLLIN, 0},
                               {static_cast<void*>(s_->stdin_), 0, ZMQ_POLLIN, 0}};
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (zmq::poll(items, 5, std::max(left, std::chrono::milliseconds(0))) == 0) {
      if (left.count() <= 0) return std::nullopt;
      continue;
    }
    if (items[0].revents & ZMQ_POLLIN) {
      zmq::message_t drop;
      while (s_->wake_reader.recv(drop, zmq::recv_flags::dontwait)) {
      }
    }
    for (std::size_t i = 0; i < 4; ++i) {
      if (!(items[i + 1].revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(*sources[i].socket, std::back_inserter(parts), zmq::recv_flags::dontwait))
        continue;
      std::vector<std::string> frames;
      frames.reserve(parts.size());
      for (auto& p : parts) frames.emplace_back(p.to_string());
      Decoded d = decode(frames, s_->signer);
      if (!d.message) {
        ++s_->dropped;
        continue;
      }
      d.message->identities.clear();
      return ChannelMessage{sources[i].channel, std::move(*d.message)};
    }
  }
}

bool Channels::wait_for_iopub(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string session = new_uuid();
  while (std::chrono::steady_clock::now() < deadline) {
    Message ask;
    ask.header = make_header("kernel_info_request", session);
    ask.header["username"] = "llmspell-fleet";
    s_->nudges.insert(ask.header["msg_id"].get<std::string>());
    send({"control", std::move(ask)});
    // Often: until the subscription is in place, each nudge's statuses are lost anyway.
    const auto retry = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(25));
    while (std::chrono::steady_clock::now() < retry) {
      auto m = next(
          std::chrono::duration_cast<std::chrono::milliseconds>(retry - std::chrono::steady_clock::now()));
      // Whatever came before the client was connected is not its business: only nudges' answers, or
      // other clients' traffic.
      if (m && m->channel == "iopub") return true;
    }
  }
  return false;
}

std::size_t Channels::dropped() const {
  return s_->dropped.load();
}

}  // namespace fleet::jupyter
