// Jupyter messages (protocol 5.3) as they travel over ZeroMQ: routing identities, the "<IDS|MSG>"
// delimiter, the HMAC signature, four JSON frames (header, parent_header, metadata, content) and
// optional binary buffers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jupyter/signer.hpp"

namespace fleet::jupyter {

inline constexpr const char* kProtocolVersion = "5.3";
inline constexpr const char* kDelimiter = "<IDS|MSG>";

struct Message {
  std::vector<std::string> identities;
  nlohmann::json header = nlohmann::json::object();
  nlohmann::json parent_header = nlohmann::json::object();
  nlohmann::json metadata = nlohmann::json::object();
  nlohmann::json content = nlohmann::json::object();
  std::vector<std::string> buffers;

  std::string type() const { return header.value("msg_type", ""); }
};

enum class DecodeError { NoDelimiter, TooFewFrames, BadSignature, BadJson };
const char* describe(DecodeError error);

struct Decoded {
  std::optional<Message> message;
  std::optional<DecodeError> error;
};

// Checks the signature before parsing anything: a message signed with another key is refused.
Decoded decode(const std::vector<std::string>& frames, const Signer& signer);
std::vector<std::string> encode(const Message& message, const Signer& signer);

// Builds a header for a new message of this kernel's session.
nlohmann::json make_header(const std::string& msg_type, const std::string& session);
// A reply or broadcast caused by `parent`: its header becomes our parent_header.
Message make_child(const Message& parent, const std::string& msg_type, const std::string& session,
                   nlohmann::json content);

std::string new_uuid();
// Current UTC time as ISO 8601 with microseconds, as Jupyter dates are written.
std::string iso8601_now();

}  // namespace fleet::jupyter
