// The kernel's client count: the bookkeeping alone, then a kernel served in-process on loopback with
// real ZeroMQ clients connecting and leaving.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "jupyter/wire.hpp"
#include "kernel/clients.hpp"
#include "kernel/kernel.hpp"
#include "support/served_kernel.hpp"

using namespace fleet::kernel;
using namespace fleet::jupyter;
using namespace fleet::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return json::parse(in, nullptr, false);
}

// What a Jupyter client opens on the two counted channels.
struct Client {
  Client(zmq::context_t& context, const ConnectionInfo& c)
      : shell(context, zmq::socket_type::dealer), iopub(context, zmq::socket_type::sub) {
    shell.set(zmq::sockopt::linger, 0);
    iopub.set(zmq::sockopt::linger, 0);
    iopub.set(zmq::sockopt::subscribe, "");
    shell.connect(c.endpoint(c.shell_port));
    iopub.connect(c.endpoint(c.iopub_port));
  }
  zmq::socket_t shell, iopub;
};

// llmspell_status_request on control; null when no reply comes within 2 s.
json status_reply(zmq::socket_t& control, const Signer& signer) {
  auto reply = await_reply(control, signer, send_request(control, signer, "llmspell_status_request"), 2s);
  return reply ? reply->content : json(nullptr);
}

}  // namespace

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

TEST_CASE("a served kernel counts its clients in the status reply and file", "[kernel][clients]") {
  ServedKernel kernel;
  REQUIRE(kernel.ready());
  REQUIRE(kernel.failure().empty());
  ConnectionInfo c = kernel.connection();
  Signer signer(c.key);
  zmq::context_t context(1);

  // Control (the status requests) and heartbeat (what the HEALTHCHECK probe uses) stay connected
  // throughout: the exact counts below show that neither is counted.
  zmq::socket_t control(context, zmq::socket_type::dealer);
  control.set(zmq::sockopt::linger, 0);
  control.connect(c.endpoint(c.control_port));
  zmq::socket_t heartbeat(context, zmq::socket_type::req);
  heartbeat.set(zmq::sockopt::linger, 0);
  heartbeat.connect(c.endpoint(c.hb_port));
  heartbeat.send(zmq::str_buffer("ping"), zmq::send_flags::none);
  zmq::pollitem_t beat[] = {{static_cast<void*>(heartbeat), 0, ZMQ_POLLIN, 0}};
  REQUIRE(zmq::poll(beat, 1, 5s) == 1);

  json status;
  auto connections_are = [&](int shell, int iopub) {
    return eventually([&] {
      status = status_reply(control, signer);
      return status.is_object() && status["connections"] == json{{"shell", shell}, {"iopub", iopub}};
    });
  };
  auto file_says = [&](int clients) {
    return eventually([&] { return read_json(kernel.status_file()).value("clients", -1) == clients; });
  };
  CHECK(connections_are(0, 0));

  Client first(context, c);
  auto second = std::make_unique<Client>(context, c);
  REQUIRE(connections_are(2, 2));
  CHECK(status["clients"] == 2);
  CHECK(status["execution_state"] == "idle");
  CHECK(file_says(2));
  CHECK(read_json(kernel.status_file())["connections"] == json{{"shell", 2}, {"iopub", 2}});

  second.reset();  // closes both sockets: the kernel sees two TCP disconnects
  REQUIRE(connections_are(1, 1));
  CHECK(status["clients"] == 1);
  CHECK(file_says(1));

  kernel.stop();
  CHECK(kernel.failure().empty());
  json last = read_json(kernel.status_file());
  CHECK(last["execution_state"] == "stopped");
  CHECK(last["clients"] == 0);
}
