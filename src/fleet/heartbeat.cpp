#include "fleet/heartbeat.hpp"

#include <zmq.hpp>

namespace fleet {

std::string host_address(const std::string& ip) {
  return ip.empty() || ip == "0.0.0.0" ? "127.0.0.1" : ip;
}

std::string heartbeat(const std::string& ip, int port, std::chrono::milliseconds timeout) {
  if (port <= 0) return "no heartbeat port published";
  try {
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::req);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect("tcp://" + ip + ":" + std::to_string(port));
    socket.send(zmq::str_buffer("llmspell-fleet"), zmq::send_flags::none);
    zmq::pollitem_t items[] = {{static_cast<void*>(socket), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, timeout);
    zmq::message_t answer;
    if ((items[0].revents & ZMQ_POLLIN) && socket.recv(answer, zmq::recv_flags::dontwait) &&
        answer.to_string() == "llmspell-fleet")
      return "";
    return "no heartbeat on " + ip + ":" + std::to_string(port) + " within " +
           std::to_string(timeout.count()) + " ms";
  } catch (const zmq::error_t& e) {
    return std::string("heartbeat: ") + e.what();
  }
}

}  // namespace fleet
