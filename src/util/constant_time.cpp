#include "util/constant_time.hpp"

#include <openssl/crypto.h>

#include <string>

namespace fleet::util {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // The lengths may leak (a token's length is no secret worth keeping); the content does not.
  if (a.size() != b.size()) {
    std::string padded(a.size(), '\0');
    (void)CRYPTO_memcmp(a.data(), padded.data(), a.size());
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace fleet::util
