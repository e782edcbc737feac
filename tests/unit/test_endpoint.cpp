#include <catch2/catch.hpp>

#include "engine/endpoint.hpp"
#include "engine/errors.hpp"

using namespace fleet::engine;

TEST_CASE("unix endpoints keep the socket path", "[endpoint]") {
  Endpoint e = Endpoint::parse("unix:///var/run/docker.sock");
  CHECK(e.kind == Endpoint::Kind::Unix);
  CHECK(e.socket_path == "/var/run/docker.sock");
  CHECK(e.base_url() == "http://localhost");
  CHECK(e.address == "unix:///var/run/docker.sock");
}

TEST_CASE("tcp endpoints give host and port", "[endpoint]") {
  Endpoint e = Endpoint::parse("tcp://127.0.0.1:2375");
  CHECK(e.kind == Endpoint::Kind::Tcp);
  CHECK(e.host == "127.0.0.1");
  CHECK(e.port == 2375);
  CHECK(e.base_url() == "http://127.0.0.1:2375");
  CHECK(Endpoint::parse("tcp://docker.local:2376/").base_url() == "http://docker.local:2376");
  CHECK(Endpoint::parse("tcp://::1:2375").base_url() == "http://[::1]:2375");
}

TEST_CASE("malformed DOCKER_HOST values are refused with the value named", "[endpoint]") {
  for (const char* bad :
       {"", "docker.sock", "http://localhost:2375", "unix://relative.sock", "unix://", "tcp://localhost",
        "tcp://:2375", "tcp://host:0", "tcp://host:70000", "tcp://host:12ab", "tcp://host:2375/path"}) {
    INFO(bad);
    try {
      Endpoint::parse(bad);
      FAIL("accepted");
    } catch (const InvalidEndpointError& e) {
      CHECK(std::string(e.what()).find(std::string("DOCKER_HOST=\"") + bad + "\"") != std::string::npos);
      CHECK(e.kind() == ErrorKind::InvalidEndpoint);
    }
  }
}

#include "engine/transport.hpp"

TEST_CASE("a socket where nothing listens gives a connection error naming it", "[endpoint][transport]") {
  Transport t(Endpoint::parse("unix:///tmp/fleet-unit-no-such.sock"));
  HttpRequest r;
  r.target = "/_ping";
  try {
    t.perform(r);
    FAIL("answered");
  } catch (const ConnectionError& e) {
    CHECK(std::string(e.what()) ==
          "cannot reach the Docker engine at unix:///tmp/fleet-unit-no-such.sock: is dockerd running?");
  }
}
