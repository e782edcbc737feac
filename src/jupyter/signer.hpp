// HMAC message signatures of the Jupyter wire protocol (signature_scheme "hmac-sha256", the default,
// or another "hmac-<digest>" OpenSSL knows, as a connection file may name).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fleet::jupyter {

class Signer {
 public:
  // An empty key disables signing (the protocol allows it; the fleet always sets one). Throws
  // std::invalid_argument for a scheme that is not "hmac-" and a digest OpenSSL has.
  explicit Signer(std::string key, const std::string& scheme = "hmac-sha256");
  // Lower-case hex HMAC over the parts in order.
  std::string sign(const std::vector<std::string_view>& parts) const;
  // Constant-time comparison against sign(parts).
  bool verify(std::string_view signature, const std::vector<std::string_view>& parts) const;
  bool enabled() const { return !key_.empty(); }

 private:
  std::string key_;
  const void* digest_;  // the scheme's EVP_MD
};

// A new random key: 32 bytes from the system's CSPRNG as 64 hex characters.
std::string random_hex(std::size_t bytes);

}  // namespace fleet::jupyter
