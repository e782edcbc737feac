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

using namespace fleet::kernel;
using namespace fleet::jupyter;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Asks again every 20 ms; gives up after 10 s, long enough for a loaded machine.
template <class Condition>
bool eventually(Condition done) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return json::parse(in, nullptr, false);
}

// A kernel served by a thread of this test, stopped (as SIGTERM would) when it goes out of scope.
class ServedKernel {
 public:
  ServedKernel()
      : dir_(std::filesystem::temp_directory_path() /
             ("fleet-kernel-clients-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    KernelOptions options;
    options.bind_ip = "127.0.0.1";
    options.connection.key = random_hex(32);
    options.connection_file = dir_ / "connection.json";
    options.kernel_id = "clients-test";
    options.state_dir = dir_;
    kernel_ = std::make_unique<Kernel>(std::move(options));
    thread_ = std::thread([this] {
      try {
        kernel_->run(stop_, interrupt_);
      } catch (const std::exception& e) {
        failure_ = e.what();
      }
    });
  }
  ~ServedKernel() {
    stop();
    std::filesystem::remove_all(dir_);
  }
  ServedKernel(const ServedKernel&) = delete;
  ServedKernel& operator=(const ServedKernel&) = delete;

  // The status file is written after the connection file: once it is there, both are.
  bool ready() {
    return eventually([&] { return std::filesystem::exists(status_file()); });
  }
  ConnectionInfo connection() const { return read_connection_file(dir_ / "connection.json"); }
  std::filesystem::path status_file() const { return dir_ / "status.json"; }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::string& failure() const { return failure_; }

 private:
  std::filesystem::path dir_;
  std::atomic<bool> stop_{false}, interrupt_{false};
  std::unique_ptr<Kernel> kernel_;
  std::thread thread_;
  std::string failure_;
};

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
  Message request;
  request.header = make_header("llmspell_status_request", "clients-test-client");
  auto frames = encode(request, signer);
  for (std::size_t i = 0; i < frames.size(); ++i)
    control.send(zmq::buffer(frames[i]),
                 i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < deadline) {
    zmq::pollitem_t items[] = {{static_cast<void*>(control), 0, ZMQ_POLLIN, 0}};
    if (zmq::poll(items, 1, 100ms) == 0) continue;
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(control, std::back_inserter(parts))) continue;
    std::vector<std::string> received;
    for (auto& p : parts) received.emplace_back(p.to_string());
    Decoded d = decode(received, signer);
    // A late reply to an earlier request is skipped.
    if (d.message && d.message->parent_header.value("msg_id", "") == request.header["msg_id"])
      return d.message->content;
  }
  return nullptr;
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
