#include "jupyter/wire.hpp"

#include <chrono>
#include <ctime>

namespace fleet::jupyter {

const char* describe(DecodeError error) {
  switch (error) {
    case DecodeError::NoDelimiter:
      return "no <IDS|MSG> delimiter";
    case DecodeError::TooFewFrames:
      return "fewer than the 5 frames after the delimiter";
    case DecodeError::BadSignature:
      return "bad signature";
    case DecodeError::BadJson:
      return "a JSON frame does not parse";
  }
  return "unknown";
}

Decoded decode(const std::vector<std::string>& frames, const Signer& signer) {
  std::size_t delim = 0;
  while (delim < frames.size() && frames[delim] != kDelimiter) ++delim;
  if (delim == frames.size()) return {std::nullopt, DecodeError::NoDelimiter};
  if (frames.size() - delim - 1 < 5) return {std::nullopt, DecodeError::TooFewFrames};
  const std::string& signature = frames[delim + 1];
  if (!signer.verify(signature, {frames[delim + 2], frames[delim + 3], frames[delim + 4], frames[delim + 5]}))
    return {std::nullopt, DecodeError::BadSignature};
  Message m;
  m.identities.assign(frames.begin(), frames.begin() + static_cast<long>(delim));
  nlohmann::json* parts[] = {&m.header, &m.parent_header, &m.metadata, &m.content};
  for (int i = 0; i < 4; ++i) {
    *parts[i] = nlohmann::json::parse(frames[delim + 2 + static_cast<std::size_t>(i)], nullptr, false);
    if (parts[i]->is_discarded() || !parts[i]->is_object()) return {std::nullopt, DecodeError::BadJson};
  }
  m.buffers.assign(frames.begin() + static_cast<long>(delim) + 6, frames.end());
  return {std::move(m), std::nullopt};
}

std::vector<std::string> encode(const Message& m, const Signer& signer) {
  std::vector<std::string> frames = m.identities;
  std::string header = m.header.dump(), parent = m.parent_header.dump(), metadata = m.metadata.dump(),
              content = m.content.dump();
  frames.emplace_back(kDelimiter);
  frames.push_back(signer.sign({header, parent, metadata, content}));
  frames.push_back(std::move(header));
  frames.push_back(std::move(parent));
  frames.push_back(std::move(metadata));
  frames.push_back(std::move(content));
  frames.insert(frames.end(), m.buffers.begin(), m.buffers.end());
  return frames;
}

std::string new_uuid() {
  std::string hex = random_hex(16);
  hex[12] = '4';  // version 4
  hex[16] = "89ab"[hex[16] % 4];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

std::string iso8601_now() {
  auto now = std::chrono::system_clock::now();
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(micros));
  return buf;
}

nlohmann::json make_header(const std::string& msg_type, const std::string& session) {
  return {{"msg_id", new_uuid()},  {"session", session},   {"username", "kernel"},
          {"date", iso8601_now()}, {"msg_type", msg_type}, {"version", kProtocolVersion}};
}

Message make_child(const Message& parent, const std::string& msg_type, const std::string& session,
                   nlohmann::json content) {
  Message m;
  m.header = make_header(msg_type, session);
  m.parent_header = parent.header;
  m.content = std::move(content);
  return m;
}

}  // namespace fleet::jupyter
