#include <catch2/catch.hpp>

#include "util/base64.hpp"

using namespace fleet::util;

TEST_CASE("base64 round trips and matches RFC 4648 vectors", "[base64]") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    CHECK(base64_encode(plain) == encoded);
    CHECK(base64_decode(encoded) == plain);
  }
  std::string binary("\x00\xff\x10\x80", 4);
  CHECK(base64_decode(base64_encode(binary)) == binary);
  CHECK(base64_decode("Zm9vYg") == "foob");  // unpadded
  CHECK_THROWS_AS(base64_decode("Zm9v!"), std::invalid_argument);
  CHECK_THROWS_AS(base64_decode("Z"), std::invalid_argument);
}
