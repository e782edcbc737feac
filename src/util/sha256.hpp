// SHA-256 as lower-case hex: config hashes and build-context identities.
#pragma once

#include <string>
#include <string_view>

namespace fleet::util {

std::string sha256_hex(std::string_view data);

}  // namespace fleet::util
