// The server's HTTP pieces without sockets: targets, JSON bodies and their limits, error mapping,
// the Prometheus text.
#include <catch2/catch.hpp>

#include "server/http.hpp"
#include "server/prometheus.hpp"

using namespace fleet;
using namespace fleet::server;

namespace {
Request post(const std::string& body, const std::string& type = "application/json") {
  Request r;
  r.method = "POST";
  r.target = "/kernels";
  r.headers["content-type"] = type;
  r.body = body;
  return r;
}

int status_of_body(const Request& r, const std::vector<std::string>& allowed = {"language", "memory"}) {
  try {
    json_body(r, 8, allowed);
    return 200;
  } catch (const HttpError& e) {
    return e.status;
  }
}
}  // namespace

TEST_CASE("targets: segments and query, percent-decoded", "[http]") {
  Request r;
  r.target = "/kernels/a%20b/logs?tail=10&follow&x=a+b%21";
  parse_target(r);
  CHECK(r.segments == std::vector<std::string>{"kernels", "a b", "logs"});
  CHECK(r.query.at("tail") == "10");
  CHECK(r.query.at("follow").empty());
  CHECK(r.query.at("x") == "a b!");
  Request bad;
  bad.target = "/kernels/%zz";
  CHECK_THROWS_AS(parse_target(bad), HttpError);
  Request relative;
  relative.target = "kernels";
  CHECK_THROWS_AS(parse_target(relative), HttpError);
  CHECK(bool_query(r, "follow", false));
  CHECK_FALSE(bool_query(r, "force", false));
  r.query["force"] = "maybe";
  CHECK_THROWS_AS(bool_query(r, "force", false), HttpError);
}

TEST_CASE("JSON bodies: content type, syntax, depth, object, allowed fields", "[http]") {
  CHECK(status_of_body(post(R"({"language": "lua"})")) == 200);
  CHECK(status_of_body(post(R"({"language": "lua"})", "application/json; charset=utf-8")) == 200);
  CHECK(status_of_body(post(R"({"language": "lua"})", "text/plain")) == 415);
  CHECK(status_of_body(post(R"({"language": "lua"})", "")) == 415);
  CHECK(status_of_body(post(R"({"language": )")) == 400);
  CHECK(status_of_body(post(R"({"language": [[[[[[[[[["deep"]]]]]]]]]]})")) == 400);
  CHECK(status_of_body(post(R"([1, 2])")) == 422);
  CHECK(status_of_body(post(R"({"privileged": true})")) == 422);
  try {
    json_body(post(R"({"privileged": true})"), 8, {"language", "memory"});
  } catch (const HttpError& e) {
    CHECK(std::string(e.what()) == "unknown field \"privileged\" (known: language, memory)");
  }
  auto body = nlohmann::json::parse(R"({"a": "x", "n": 2.5, "b": true, "wrong": 3})");
  CHECK(text_field(body, "a") == "x");
  CHECK(text_field(body, "missing").empty());
  CHECK(number_field(body, "n") == 2.5);
  CHECK(bool_field(body, "b", false));
  CHECK_THROWS_AS(text_field(body, "wrong"), HttpError);
  CHECK_THROWS_AS(number_field(body, "a"), HttpError);
  CHECK_THROWS_AS(bool_field(body, "a", false), HttpError);
}

TEST_CASE("the fleet's error kinds map to one status each, with a JSON body", "[http]") {
  CHECK(status_of(ErrorKind::BadInput) == 422);
  CHECK(status_of(ErrorKind::NotFound) == 404);
  CHECK(status_of(ErrorKind::Conflict) == 409);
  CHECK(status_of(ErrorKind::EngineUnavailable) == 503);
  CHECK(status_of(ErrorKind::OperationFailed) == 500);
  Reply r = error_reply(HttpError(405, "method_not_allowed", "PUT is not allowed here", {"GET", "POST"}));
  CHECK(r.status == 405);
  CHECK(nlohmann::json::parse(r.body) ==
        nlohmann::json({{"error", "method_not_allowed"}, {"message", "PUT is not allowed here"}}));
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0] == std::pair<std::string, std::string>{"Allow", "GET, POST"});
  Reply unauthorized = error_reply(HttpError(401, "unauthorized", "token"));
  CHECK(unauthorized.headers.at(0).first == "WWW-Authenticate");
}

TEST_CASE("Prometheus text: gauges with help and type, label values escaped, base units",
          "[http][prometheus]") {
  MetricsReport m;
  m.kernels_by_state = {{"running", 2}, {"exited", 1}};
  m.kernels.push_back({.kernel_id = "k\"1\\",
                       .state = "running",
                       .cpu_percent = 50,
                       .memory_used = 1024,
                       .memory_limit = 4096,
                       .memory_percent = 25});
  m.total_cpu_percent = 50;
  m.total_memory_used = 1024;
  m.total_memory_limit = 4096;
  m.sample_seconds = 1.5;
  std::string text = prometheus_text(m);
  CHECK_THAT(text, Catch::Contains("# TYPE llmspell_fleet_kernels gauge\n"));
  CHECK_THAT(text, Catch::Contains("llmspell_fleet_kernels{state=\"running\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("llmspell_kernel_cpu_ratio{kernel_id=\"k\\\"1\\\\\"} 0.5\n"));
  CHECK_THAT(text, Catch::Contains("llmspell_kernel_memory_limit_bytes{kernel_id=\"k\\\"1\\\\\"} 4096\n"));
  CHECK_THAT(text, Catch::Contains("llmspell_fleet_sample_duration_seconds 1.5\n"));
  CHECK(text.back() == '\n');
}
