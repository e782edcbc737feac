#include <catch2/catch.hpp>

#include "engine/errors.hpp"

using namespace fleet::engine;

TEST_CASE("statuses map to error kinds", "[errors]") {
  CHECK(kind_for_status(404) == ErrorKind::NotFound);
  CHECK(kind_for_status(409) == ErrorKind::Conflict);
  CHECK(kind_for_status(400) == ErrorKind::BadRequest);
  CHECK(kind_for_status(401) == ErrorKind::BadRequest);
  CHECK(kind_for_status(500) == ErrorKind::ServerError);
  CHECK(kind_for_status(503) == ErrorKind::ServerError);
}

TEST_CASE("typed errors carry the status and the daemon's message", "[errors]") {
  const std::string body = R"({"message":"No such container: abc"})";
  try {
    throw_for_status(404, body, "inspect container abc");
    FAIL("no throw");
  } catch (const NotFoundError& e) {
    CHECK(e.status() == 404);
    CHECK(e.daemon_message() == "No such container: abc");
    CHECK(std::string(e.what()) == "inspect container abc: No such container: abc");
  }
  CHECK_THROWS_AS(throw_for_status(409, R"({"message":"name in use"})", "x"), ConflictError);
  CHECK_THROWS_AS(throw_for_status(400, R"({"message":"bad"})", "x"), BadRequestError);
  CHECK_THROWS_AS(throw_for_status(500, R"({"message":"boom"})", "x"), ServerError);
  // Every typed error is an EngineError.
  CHECK_THROWS_AS(throw_for_status(500, "", "x"), EngineError);
}

TEST_CASE("a body that is not JSON is kept as the message", "[errors]") {
  CHECK(daemon_message_from_body("page not found\n") == "page not found");
  CHECK(daemon_message_from_body(R"({"message":"x"})") == "x");
  CHECK(daemon_message_from_body(R"({"other":"x"})") == R"({"other":"x"})");
  try {
    throw_for_status(502, "", "list containers");
  } catch (const ServerError& e) {
    CHECK(std::string(e.what()) == "list containers: HTTP 502");
  }
}
