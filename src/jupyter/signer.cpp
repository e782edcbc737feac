#include "jupyter/signer.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace fleet::jupyter {
namespace {
std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}
}  // namespace

Signer::Signer(std::string key, const std::string& scheme) : key_(std::move(key)) {
  const std::string prefix = "hmac-";
  digest_ =
      scheme.rfind(prefix, 0) == 0 ? EVP_get_digestbyname(scheme.substr(prefix.size()).c_str()) : nullptr;
  if (!digest_) throw std::invalid_argument("signature_scheme \"" + scheme + "\" is not supported");
}

std::string Signer::sign(const std::vector<std::string_view>& parts) const {
  if (key_.empty()) return {};
  std::string data;
  for (auto part : parts) data.append(part);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(static_cast<const EVP_MD*>(digest_), key_.data(), static_cast<int>(key_.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length))
    throw std::runtime_error("HMAC failed");
  return to_hex(digest, length);
}

bool Signer::verify(std::string_view signature, const std::vector<std::string_view>& parts) const {
  if (key_.empty()) return true;
  std::string expected = sign(parts);
  return signature.size() == expected.size() &&
         CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

std::string random_hex(std::size_t bytes) {
  std::string buffer(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buffer.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("no random bytes from OpenSSL");
  return to_hex(reinterpret_cast<const unsigned char*>(buffer.data()), bytes);
}

}  // namespace fleet::jupyter
