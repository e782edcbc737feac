// Decoders for the engine's streamed bodies. Chunks arrive split anywhere, so both keep what is
// left of an incomplete frame or line until the next chunk completes it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace fleet::engine {

enum class StreamId : std::uint8_t { Stdin = 0, Stdout = 1, Stderr = 2, SystemError = 3 };

// Docker's multiplexed stream (logs and attach/exec without a TTY): frames of an 8-byte header
// [stream, 0, 0, 0, size as big-endian uint32] followed by `size` bytes of payload.
class MuxDecoder {
 public:
  using Sink = std::function<void(StreamId, std::string_view)>;
  explicit MuxDecoder(Sink sink) : sink_(std::move(sink)) {}
  void feed(std::string_view chunk);
  // True when no partial frame is pending (the stream ended on a frame boundary).
  bool idle() const { return pending_.empty(); }

 private:
  Sink sink_;
  std::string pending_;
};

// Newline-delimited records (events, stats, build progress, JSON messages). finish() hands over
// a last record that had no trailing newline.
class LineSplitter {
 public:
  using Sink = std::function<void(std::string_view)>;
  explicit LineSplitter(Sink sink) : sink_(std::move(sink)) {}
  void feed(std::string_view chunk);
  void finish();

 private:
  Sink sink_;
  std::string pending_;
};

}  // namespace fleet::engine
