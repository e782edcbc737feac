// The kernel's client count: the bookkeeping of the shell and iopub monitor events.
#include <catch2/catch.hpp>

#include <zmq.h>

#include "kernel/clients.hpp"

using namespace fleet::kernel;
using nlohmann::json;

TEST_CASE("client count follows accepts and disconnects per socket", "[kernel][clients]") {
  ClientCount count;
  CHECK(count.to_json() == json{{"clients", 0}, {"connections", {{"shell", 0}, {"iopub", 0}}}});
  CHECK(count.on_event(Channel::shell, ZMQ_EVENT_ACCEPTED, 10));
  CHECK(count.on_event(Channel::iopub, ZMQ_EVENT_ACCEPTED, 11));
  CHECK(count.on_event(Channel::shell, ZMQ_EVENT_ACCEPTED, 12));
  CHECK(count.clients() == 2);  // the larger of shell 2 and iopub 1
  CHECK(count.to_json() == json{{"clients", 2}, {"connections", {{"shell", 2}, {"iopub", 1}}}});
  CHECK_FALSE(count.on_event(Channel::shell, ZMQ_EVENT_ACCEPTED, 12));      // seen already
  CHECK_FALSE(count.on_event(Channel::iopub, ZMQ_EVENT_DISCONNECTED, 12));  // accepted on shell
  CHECK_FALSE(count.on_event(Channel::shell, ZMQ_EVENT_CONNECT_DELAYED, 13));
  CHECK(count.connections(Channel::iopub) == 1);
  CHECK(count.on_event(Channel::shell, ZMQ_EVENT_DISCONNECTED, 10));
  CHECK(count.on_event(Channel::shell, ZMQ_EVENT_DISCONNECTED, 12));
  CHECK_FALSE(count.on_event(Channel::shell, ZMQ_EVENT_DISCONNECTED, 12));  // never below zero
  CHECK(count.to_json() == json{{"clients", 1}, {"connections", {{"shell", 0}, {"iopub", 1}}}});
  count.clear();
  CHECK(count.clients() == 0);
}
