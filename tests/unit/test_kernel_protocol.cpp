// The kernel's protocol pieces: signatures and message framing (jupyter/), connection files, config.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "jupyter/signer.hpp"
#include "jupyter/wire.hpp"
#include "kernel/config.hpp"
#include "kernel/connection_file.hpp"

using namespace fleet::kernel;
using namespace fleet::jupyter;

TEST_CASE("HMAC-SHA256 matches RFC 4231 test cases", "[kernel][signer]") {
  // Test case 1: key = 20 bytes of 0x0b, data "Hi There".
  Signer one(std::string(20, '\x0b'));
  CHECK(one.sign({"Hi There"}) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: key "Jefe", data "what do ya want for nothing?" (split: parts are concatenated).
  Signer two("Jefe");
  CHECK(two.sign({"what do ya want ", "for nothing?"}) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(two.verify("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                   {"what do ya want for nothing?"}));
  CHECK_FALSE(two.verify("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3844",
                         {"what do ya want for nothing?"}));
  CHECK_FALSE(two.verify("short", {"what do ya want for nothing?"}));
  CHECK(random_hex(32).size() == 64);
  CHECK(random_hex(32) != random_hex(32));
}

TEST_CASE("messages round trip through the wire format with identities and buffers", "[kernel][wire]") {
  Signer signer("secret-key");
  Message m;
  m.identities = {"client-1", "router-2"};
  m.header = make_header("execute_request", "session-a");
  m.content = {{"code", "print(1)"}, {"silent", false}};
  m.buffers = {std::string("\x00\x01", 2)};
  auto frames = encode(m, signer);
  REQUIRE(frames.size() == 2 + 1 + 1 + 4 + 1);
  CHECK(frames[2] == kDelimiter);
  Decoded d = decode(frames, signer);
  REQUIRE(d.message);
  CHECK(d.message->identities == m.identities);
  CHECK(d.message->type() == "execute_request");
  CHECK(d.message->content["code"] == "print(1)");
  CHECK(d.message->buffers == m.buffers);
  CHECK(d.message->header["version"] == "5.3");
}

TEST_CASE("a message signed with another key, or malformed, is refused", "[kernel][wire]") {
  Message m;
  m.header = make_header("kernel_info_request", "s");
  auto frames = encode(m, Signer("right"));
  CHECK(decode(frames, Signer("wrong")).error == DecodeError::BadSignature);
  auto tampered = frames;
  tampered.back() = R"j({"code": "os.exit()"})j";
  CHECK(decode(tampered, Signer("right")).error == DecodeError::BadSignature);
  CHECK(decode({"a", "b"}, Signer("right")).error == DecodeError::NoDelimiter);
  CHECK(decode({kDelimiter, "sig", "{}"}, Signer("right")).error == DecodeError::TooFewFrames);
  Signer s("k");
  std::string bad = "not json";
  std::vector<std::string> frames2 = {kDelimiter, s.sign({bad, "{}", "{}", "{}"}), bad, "{}", "{}", "{}"};
  CHECK(decode(frames2, s).error == DecodeError::BadJson);
}

TEST_CASE("replies carry the request's header as parent and fresh ids", "[kernel][wire]") {
  Message request;
  request.header = make_header("execute_request", "client-session");
  Message reply = make_child(request, "execute_reply", "kernel-session", {{"status", "ok"}});
  CHECK(reply.parent_header == request.header);
  CHECK(reply.header["session"] == "kernel-session");
  CHECK(reply.header["msg_id"] != request.header["msg_id"]);
  std::string date = reply.header["date"];
  CHECK(date.size() == 27);
  CHECK(date.back() == 'Z');
  std::string uuid = new_uuid();
  CHECK(uuid.size() == 36);
  CHECK(uuid[14] == '4');
}

TEST_CASE("connection files round trip and are validated", "[kernel][connection]") {
  auto path = std::filesystem::temp_directory_path() / ("fleet-conn-" + std::to_string(::getpid()) + ".json");
  ConnectionInfo c;
  c.ip = "0.0.0.0";
  c.shell_port = 9555;
  c.iopub_port = 9556;
  c.stdin_port = 9557;
  c.control_port = 9558;
  c.hb_port = 9559;
  c.key = "abc";
  c.kernel_name = "llmspell-lua";
  write_connection_file(path, c);
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  ConnectionInfo back = read_connection_file(path);
  CHECK(back.hb_port == 9559);
  CHECK(back.key == "abc");
  CHECK(back.kernel_name == "llmspell-lua");
  std::ofstream(path)
      << R"({"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": "x", "hb_port": 5})";
  CHECK_THROWS_WITH(read_connection_file(path),
                    Catch::Contains("control_port") && Catch::Contains(path.string()));
  std::ofstream(path) << R"({"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4})";
  CHECK_THROWS_WITH(read_connection_file(path), Catch::Contains("hb_port"));
  std::filesystem::remove(path);
}

TEST_CASE("TOML config loads whole, with secrets redacted and parse errors located", "[kernel][config]") {
  auto path =
      std::filesystem::temp_directory_path() / ("fleet-config-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path)
      << "provider = \"openai\"\nmodel = \"gpt\"\napi_key = \"sk-1\"\napi_key_env = \"OPENAI\"\n"
         "[limits]\nmax_tokens = 10\nratio = 0.5\ntools = [\"a\", \"b\"]\n[auth]\ntoken = \"t\"\n";
  nlohmann::json c = redact_secrets(load_config(path));
  CHECK(c["provider"] == "openai");
  CHECK(c["api_key"] == "***");
  CHECK(c["api_key_env"] == "OPENAI");
  CHECK(c["limits"]["max_tokens"] == 10);
  CHECK(c["limits"]["ratio"] == 0.5);
  CHECK(c["limits"]["tools"] == nlohmann::json::array({"a", "b"}));
  CHECK(c["auth"]["token"] == "***");
  std::ofstream(path) << "provider = \"openai\"\nmodel = = \"x\"\n";
  CHECK_THROWS_WITH(load_config(path), Catch::StartsWith(path.string() + ":2:"));
  std::filesystem::remove(path);
}
