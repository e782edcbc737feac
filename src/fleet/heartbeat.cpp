#include "fleet/heartbeat.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.hpp>

#include <cerrno>
#include <cstring>

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

std::string tcp_probe(const std::string& host, int port, int timeout_ms) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return gai_strerror(rc);
  std::string error = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, timeout_ms) == 1 ? 0 : -1;
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (rc == 0) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (rc != 0)
        error = "no answer within " + std::to_string(timeout_ms) + " ms";
      else if (so_error)
        error = std::strerror(so_error), rc = -1;
    } else if (rc != 0) {
      error = std::strerror(errno);
    }
    ::close(fd);
    if (rc == 0) {
      error.clear();
      break;
    }
  }
  ::freeaddrinfo(found);
  return error;
}

}  // namespace fleet
