#include <catch2/catch.hpp>

#include "engine/url.hpp"

using namespace fleet::engine;

TEST_CASE("percent_encode keeps unreserved characters and encodes the rest", "[url]") {
  CHECK(percent_encode("abcXYZ019-_.~") == "abcXYZ019-_.~");
  CHECK(percent_encode("a b/c?d&e=f") == "a%20b%2Fc%3Fd%26e%3Df");
  CHECK(percent_encode("{\"label\":[\"x\"]}") == "%7B%22label%22%3A%5B%22x%22%5D%7D");
  CHECK(percent_encode("\xc3\xa9") == "%C3%A9");
  CHECK(percent_encode("") == "");
}

TEST_CASE("Query joins encoded pairs in order", "[url]") {
  Query q;
  CHECK(q.str() == "");
  q.flag("all", true).add("limit", 5).add("name", "web 1");
  CHECK(q.str() == "?all=1&limit=5&name=web%201");
  CHECK_FALSE(q.empty());
}

TEST_CASE("filters become the engine's JSON form, and empty filters add nothing", "[url]") {
  CHECK(filters_json({{"label", {"a=b", "c"}}, {"status", {"paused"}}}) ==
        R"({"label":["a=b","c"],"status":["paused"]})");
  Query empty;
  empty.filters({});
  CHECK(empty.str() == "");
  Query q;
  q.filters({{"label", {"k=v"}}});
  CHECK(q.str() == "?filters=%7B%22label%22%3A%5B%22k%3Dv%22%5D%7D");
}
