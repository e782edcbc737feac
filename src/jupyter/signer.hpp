// HMAC-SHA256 message signatures of the Jupyter wire protocol (signature_scheme "hmac-sha256").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fleet::jupyter {

class Signer {
 public:
  // An empty key disables signing (the protocol allows it; the fleet always sets one).
  explicit Signer(std::string key) : key_(std::move(key)) {}
  // Lower-case hex HMAC-SHA256 over the parts in order.
  std::string sign(const std::vector<std::string_view>& parts) const;
  // Constant-time comparison against sign(parts).
  bool verify(std::string_view signature, const std::vector<std::string_view>& parts) const;
  bool enabled() const { return !key_.empty(); }

 private:
  std::string key_;
};

// A new random key: 32 bytes from the system's CSPRNG as 64 hex characters.
std::string random_hex(std::size_t bytes);

}  // namespace fleet::jupyter
