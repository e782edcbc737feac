#include "jupyter/client.hpp"

#include <iterator>
#include <stdexcept>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "jupyter/signer.hpp"
#include "jupyter/wire.hpp"

namespace fleet::jupyter {

nlohmann::json request(const Endpoint& endpoint, const std::string& msg_type, const nlohmann::json& content,
                       std::chrono::milliseconds timeout) {
  const std::string what = msg_type + " to " + endpoint.address();
  if (!endpoint.key.empty() && endpoint.signature_scheme != "hmac-sha256")
    throw std::runtime_error(what + ": unsupported signature scheme \"" + endpoint.signature_scheme + "\"");
  Signer signer(endpoint.key);
  Message message;
  message.header = make_header(msg_type, new_uuid());
  message.header["username"] = "llmspell-fleet";
  message.content = content;
  const std::string msg_id = message.header["msg_id"];

  auto deadline = std::chrono::steady_clock::now() + timeout;
  try {
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(endpoint.address());
    auto frames = encode(message, signer);
    for (std::size_t i = 0; i < frames.size(); ++i)
      socket.send(zmq::buffer(frames[i]),
                  i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      zmq::pollitem_t items[] = {{static_cast<void*>(socket), 0, ZMQ_POLLIN, 0}};
      if (zmq::poll(items, 1, left) == 0) continue;
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(socket, std::back_inserter(parts), zmq::recv_flags::dontwait)) continue;
      std::vector<std::string> received;
      received.reserve(parts.size());
      for (auto& p : parts) received.emplace_back(p.to_string());
      Decoded d = decode(received, signer);
      if (!d.message) throw std::runtime_error(what + ": the reply was refused: " + describe(*d.error));
      // This socket is ours alone, but a kernel may still answer a request of an earlier call late.
      if (d.message->parent_header.value("msg_id", "") == msg_id) return d.message->content;
    }
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(what + ": " + e.what());
  }
  throw std::runtime_error(what + ": no reply within " + std::to_string(timeout.count()) +
                           " ms (is the kernel running, and is this its key?)");
}

}  // namespace fleet::jupyter
