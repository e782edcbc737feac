#include "kernel/clients.hpp"

#include <zmq.h>

#include <algorithm>

namespace fleet::kernel {

bool ClientCount::on_event(Channel channel, int event, int fd) {
  auto& open = channel == Channel::shell ? shell_ : iopub_;
  if (event == ZMQ_EVENT_ACCEPTED) return open.insert(fd).second;
  if (event == ZMQ_EVENT_DISCONNECTED) return open.erase(fd) > 0;
  return false;
}

int ClientCount::connections(Channel channel) const {
  return static_cast<int>(channel == Channel::shell ? shell_.size() : iopub_.size());
}

int ClientCount::clients() const {
  return std::max(connections(Channel::shell), connections(Channel::iopub));
}

void ClientCount::clear() {
  shell_.clear();
  iopub_.clear();
}

nlohmann::json ClientCount::to_json() const {
  return {{"clients", clients()},
          {"connections", {{"shell", connections(Channel::shell)}, {"iopub", connections(Channel::iopub)}}}};
}

}  // namespace fleet::kernel
