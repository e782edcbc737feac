#include "engine/streams.hpp"

#include "engine/errors.hpp"

namespace fleet::engine {

void MuxDecoder::feed(std::string_view chunk) {
  pending_.append(chunk);
  std::size_t pos = 0;
  while (pending_.size() - pos >= 8) {
    const auto* h = reinterpret_cast<const unsigned char*>(pending_.data() + pos);
    if (h[0] > 3 || h[1] || h[2] || h[3])
      throw ProtocolError("multiplexed stream: bad frame header (is the container using a TTY?)");
    std::uint32_t size =
        (std::uint32_t{h[4]} << 24) | (std::uint32_t{h[5]} << 16) | (std::uint32_t{h[6]} << 8) | h[7];
    if (pending_.size() - pos - 8 < size) break;
    sink_(static_cast<StreamId>(h[0]), std::string_view(pending_).substr(pos + 8, size));
    pos += 8 + size;
  }
  pending_.erase(0, pos);
}

void LineSplitter::feed(std::string_view chunk) {
  pending_.append(chunk);
  std::size_t start = 0;
  for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line = std::string_view(pending_).substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) sink_(line);
  }
  pending_.erase(0, start);
}

void LineSplitter::finish() {
  if (!pending_.empty()) sink_(pending_);
  pending_.clear();
}

}  // namespace fleet::engine
