// The shell socket is read while code runs: execute requests queued behind a running one are counted
// as pending (in the status reply and file) and answered in order of arrival.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <zmq.hpp>

#include "jupyter/wire.hpp"
#include "support/served_kernel.hpp"

using namespace fleet::test;
using fleet::jupyter::Signer;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json status_of(zmq::socket_t& control, const Signer& signer) {
  auto reply = await_reply(control, signer, send_request(control, signer, "llmspell_status_request"), 2s);
  return reply ? reply->content : json(nullptr);
}

json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return json::parse(in, nullptr, false);
}

}  // namespace

TEST_CASE("execute requests queued behind a running one count as pending until answered", "[kernel][queue]") {
  ServedKernel kernel("queue-test");
  REQUIRE(kernel.ready());
  auto c = kernel.connection();
  Signer signer(c.key);
  zmq::context_t context(1);
  zmq::socket_t shell = dealer(context, c, c.shell_port);
  zmq::socket_t control = dealer(context, c, c.control_port);
  CHECK(status_of(control, signer)["pending"] == 0);

  // pending counts the running request too: one running, two waiting make 3.
  std::string slow = send_request(shell, signer, "execute_request", {{"code", "spin(1)"}});
  std::string second = send_request(shell, signer, "execute_request", {{"code", "x = 20"}});
  std::string third = send_request(shell, signer, "execute_request", {{"code", "x + 1"}});
  json status;
  CHECK(eventually([&] {
    status = status_of(control, signer);
    return status.value("pending", -1) == 3 && status.value("execution_state", "") == "busy";
  }));
  CHECK(eventually([&] { return read_json(kernel.status_file()).value("pending", -1) == 3; }));

  // Answered in order of arrival: the replies' parents are the requests, one after the other.
  std::vector<std::string> parents;
  std::vector<json> contents;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (parents.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    zmq::pollitem_t items[] = {{static_cast<void*>(shell), 0, ZMQ_POLLIN, 0}};
    if (zmq::poll(items, 1, 100ms) == 0) continue;
    std::vector<zmq::message_t> parts;
    REQUIRE(zmq::recv_multipart(shell, std::back_inserter(parts)));
    std::vector<std::string> frames;
    for (auto& p : parts) frames.emplace_back(p.to_string());
    auto d = fleet::jupyter::decode(frames, signer);
    REQUIRE(d.message);
    if (d.message->type() != "execute_reply") continue;
    parents.push_back(d.message->parent_header.value("msg_id", ""));
    contents.push_back(d.message->content);
  }
  CHECK(parents == std::vector<std::string>{slow, second, third});
  REQUIRE(contents.size() == 3);
  CHECK(contents[0]["status"] == "ok");
  CHECK(contents[2]["execution_count"] == 3);

  // A client that holds every reply finds nothing pending.
  status = status_of(control, signer);
  CHECK(status["pending"] == 0);
  CHECK(eventually([&] { return read_json(kernel.status_file()).value("pending", -1) == 0; }));
  CHECK(eventually([&] { return status_of(control, signer)["execution_state"] == "idle"; }));

  kernel.stop();
  CHECK(kernel.failure().empty());
  CHECK(read_json(kernel.status_file())["pending"] == 0);
}

TEST_CASE("a stop finishes the running execution, answers it and exits", "[kernel][queue]") {
  ServedKernel kernel("queue-stop-test");
  REQUIRE(kernel.ready());
  auto c = kernel.connection();
  Signer signer(c.key);
  zmq::context_t context(1);
  zmq::socket_t shell = dealer(context, c, c.shell_port);
  zmq::socket_t control = dealer(context, c, c.control_port);
  std::string slow = send_request(shell, signer, "execute_request", {{"code", "spin(0.5)"}});
  send_request(shell, signer, "execute_request", {{"code", "spin(30)"}});
  REQUIRE(eventually([&] {
    json s = status_of(control, signer);
    return s.value("pending", -1) == 2 && s.value("execution_state", "") == "busy";
  }));
  auto shutdown = await_reply(control, signer, send_request(control, signer, "shutdown_request"));
  REQUIRE(shutdown);
  auto answered = await_reply(shell, signer, slow);
  REQUIRE(answered);
  CHECK(answered->content["status"] == "ok");
  kernel.stop();  // returns at once: the queued spin(30) never runs
  CHECK(kernel.failure().empty());
  json last = read_json(kernel.status_file());
  CHECK(last["execution_state"] == "stopped");
  CHECK(last["pending"] == 0);
}
