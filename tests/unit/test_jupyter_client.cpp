// The jupyter client against kernels served in-process: a checkpoint taken from one kernel and
// restored into another, over control, signed as the fleet would; KernelBusy while code runs; the
// client's own errors.
#include <catch2/catch.hpp>

#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "jupyter/client.hpp"
#include "support/served_kernel.hpp"

using namespace fleet::test;
using fleet::jupyter::Endpoint;
using fleet::jupyter::request;
using fleet::jupyter::Signer;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

Endpoint endpoint(const fleet::kernel::ConnectionInfo& c, int port) {
  return {.transport = c.transport,
          .ip = c.ip,
          .port = port,
          .key = c.key,
          .signature_scheme = c.signature_scheme};
}

struct Kernel {
  explicit Kernel(const std::string& name, const std::string& language) : served(name, language) {
    REQUIRE(served.ready());
    auto c = served.connection();
    shell = endpoint(c, c.shell_port);
    control = endpoint(c, c.control_port);
  }
  json execute(const std::string& code) { return request(shell, "execute_request", {{"code", code}}, 10s); }
  ServedKernel served;
  Endpoint shell, control;
};

}  // namespace

TEST_CASE("a Lua checkpoint from one kernel restores into another", "[jupyter][client][checkpoint]") {
  Kernel from("client-lua-from", "lua"), to("client-lua-to", "lua");
  REQUIRE(from.execute("x = {a = 1, b = {'two', 3}}\nt = {}\nt.self = t\nfunction f() end")["status"] ==
          "ok");
  json checkpoint = request(from.control, "llmspell_checkpoint_request", json::object(), 5s);
  REQUIRE(checkpoint["status"] == "ok");
  CHECK(checkpoint["language"] == "lua");
  CHECK(checkpoint["skipped"] == json::parse(R"([{"name": "f", "type": "function"}])"));
  CHECK(checkpoint["state"]["format"] == "llmspell-state/1");

  json restored = request(to.control, "llmspell_restore_request", {{"state", checkpoint["state"]}}, 5s);
  CHECK(restored == json{{"status", "ok"}, {"restored", {"t", "x"}}});
  // An assert that fails makes an error reply.
  json checked = to.execute(
      "assert(x.b[1] == 'two' and x.b[2] == 3 and math.type(x.b[2]) == 'integer' and x.a == 1)\n"
      "assert(t.self == t and f == nil)");
  CHECK(checked["status"] == "ok");
  CHECK(to.execute("assert(x.b[1] == 'three')")["status"] == "error");  // the check can fail
}

TEST_CASE("a JavaScript checkpoint restores into another kernel; other languages are refused",
          "[jupyter][client][checkpoint]") {
  Kernel from("client-js-from", "javascript"), to("client-js-to", "javascript");
  REQUIRE(from.execute("var y = {n: [1, 2]}; var c = {}; c.me = c;")["status"] == "ok");
  json checkpoint = request(from.control, "llmspell_checkpoint_request", {{"timeout", 2}}, 5s);
  REQUIRE(checkpoint["status"] == "ok");
  CHECK(checkpoint["language"] == "javascript");
  json restored = request(to.control, "llmspell_restore_request", {{"state", checkpoint["state"]}}, 5s);
  CHECK(restored["restored"] == json{"c", "y"});
  CHECK(to.execute("if (y.n[1] !== 2 || c.me !== c) throw new Error('not restored')")["status"] == "ok");

  Kernel lua("client-js-lua", "lua");
  json refused = request(lua.control, "llmspell_restore_request", {{"state", checkpoint["state"]}}, 5s);
  CHECK(refused["status"] == "error");
  CHECK(refused["ename"] == "LanguageMismatch");
  refused = request(lua.control, "llmspell_restore_request", {{"state", {{"format", "nonsense"}}}}, 5s);
  CHECK(refused["ename"] == "InvalidState");
  refused = request(lua.control, "llmspell_restore_request", json::object(), 5s);
  CHECK(refused["ename"] == "InvalidState");
}

TEST_CASE("a checkpoint waits for a running execution, up to its timeout, while control answers",
          "[jupyter][client][checkpoint]") {
  Kernel k("client-busy", "lua");
  auto c = k.served.connection();
  Signer signer(c.key);
  zmq::context_t context(1);
  zmq::socket_t shell = dealer(context, c, c.shell_port);
  zmq::socket_t control = dealer(context, c, c.control_port);
  REQUIRE(k.execute("v = 41")["status"] == "ok");
  std::string spin = send_request(shell, signer, "execute_request", {{"code", "spin(1.5)\nv = v + 1"}});
  REQUIRE(eventually([&] {
    return request(k.control, "llmspell_status_request", json::object(), 2s)["execution_state"] == "busy";
  }));

  // While one checkpoint waits, a status request is answered at once.
  auto started = std::chrono::steady_clock::now();
  std::string busy = send_request(control, signer, "llmspell_checkpoint_request", {{"timeout", 0.5}});
  std::string status = send_request(control, signer, "llmspell_status_request");
  auto status_reply = await_reply(control, signer, status, 2s);
  REQUIRE(status_reply);
  CHECK(status_reply->content["pending"] == 1);
  auto busy_reply = await_reply(control, signer, busy, 3s);
  REQUIRE(busy_reply);
  CHECK(busy_reply->content["status"] == "error");
  CHECK(busy_reply->content["ename"] == "KernelBusy");
  CHECK(std::chrono::steady_clock::now() - started >= 450ms);

  // With time enough it waits for the execution to end, and sees what it left.
  json waited = request(k.control, "llmspell_checkpoint_request", {{"timeout", 10}}, 15s);
  REQUIRE(waited["status"] == "ok");
  CHECK(waited["state"]["globals"]["v"] == 42);
  CHECK(await_reply(shell, signer, spin, 5s));
}

TEST_CASE("the client fails clearly on silence and on a reply signed with another key", "[jupyter][client]") {
  // The kernel drops a request signed with the wrong key: nothing comes back.
  Kernel k("client-wrong-key", "lua");
  Endpoint wrong = k.control;
  wrong.key = "not-the-key";
  CHECK_THROWS_WITH(request(wrong, "llmspell_status_request", json::object(), 300ms),
                    Catch::Contains("no reply within 300 ms") && Catch::Contains(wrong.address()));
  wrong.signature_scheme = "hmac-md5";
  CHECK_THROWS_WITH(request(wrong, "kernel_info_request", json::object(), 300ms),
                    Catch::Contains("unsupported signature scheme"));

  // A peer that answers with another key's signature.
  zmq::context_t context(1);
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:*");
  std::string address = router.get(zmq::sockopt::last_endpoint);
  std::thread impostor([&] {
    zmq::pollitem_t items[] = {{static_cast<void*>(router), 0, ZMQ_POLLIN, 0}};
    if (zmq::poll(items, 1, 5s) == 0) return;
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(router, std::back_inserter(parts))) return;
    std::vector<std::string> frames;
    for (auto& p : parts) frames.emplace_back(p.to_string());
    auto d = fleet::jupyter::decode(frames, Signer("right"));
    if (!d.message) return;
    auto reply = fleet::jupyter::make_child(*d.message, "kernel_info_reply", "impostor", {{"status", "ok"}});
    reply.identities = d.message->identities;
    auto out = fleet::jupyter::encode(reply, Signer("wrong"));
    for (std::size_t i = 0; i < out.size(); ++i)
      router.send(zmq::buffer(out[i]), i + 1 < out.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  });
  Endpoint impostor_endpoint{
      .ip = "127.0.0.1", .port = std::stoi(address.substr(address.rfind(':') + 1)), .key = "right"};
  CHECK_THROWS_WITH(request(impostor_endpoint, "kernel_info_request", json::object(), 5s),
                    Catch::Contains("bad signature"));
  impostor.join();
}
