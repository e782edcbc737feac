// Connected Jupyter clients, as the shell and iopub socket monitors report them: a connection counts
// from ZMQ_EVENT_ACCEPTED to ZMQ_EVENT_DISCONNECTED on its socket. A client opens one of each, so
// the client count is the larger of the two. Heartbeat, control and stdin are not watched: the
// HEALTHCHECK probe connects to heartbeat only and must not look like a client.
#pragma once

#include <set>

#include <nlohmann/json.hpp>

namespace fleet::kernel {

enum class Channel { shell, iopub };

class ClientCount {
 public:
  // One monitor event (its number and value); true when a count changed. Connections are keyed by
  // the file descriptor libzmq reports with both events, so a repeated or unmatched event cannot
  // drift the count, and a missed disconnect is healed when the descriptor is accepted again.
  bool on_event(Channel channel, int event, int fd);
  int connections(Channel channel) const;
  int clients() const;
  void clear();
  // {"clients": N, "connections": {"shell": s, "iopub": i}}
  nlohmann::json to_json() const;

 private:
  std::set<int> shell_, iopub_;
};

}  // namespace fleet::kernel
