// Base64 (RFC 4648): the engine sends a path's stat as base64 JSON in an archive response header.
#pragma once

#include <string>
#include <string_view>

namespace fleet::util {

std::string base64_encode(std::string_view data);
// Accepts the standard and URL-safe alphabets, padded or not; throws std::invalid_argument otherwise.
std::string base64_decode(std::string_view text);

}  // namespace fleet::util
