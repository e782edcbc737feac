#include <catch2/catch.hpp>

#include <vector>

#include "engine/errors.hpp"
#include "engine/streams.hpp"

using namespace fleet::engine;

namespace {
std::string frame(StreamId id, const std::string& payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(id);
  auto n = static_cast<std::uint32_t>(payload.size());
  f[4] = static_cast<char>(n >> 24);
  f[5] = static_cast<char>(n >> 16);
  f[6] = static_cast<char>(n >> 8);
  f[7] = static_cast<char>(n);
  return f + payload;
}

struct Collected {
  std::string out, err;
  int frames = 0;
};
}  // namespace

TEST_CASE("multiplexed frames split at every possible byte are reassembled", "[streams]") {
  std::string big(70000, 'x');  // a size needing all four length bytes' lower three
  std::string stream = frame(StreamId::Stdout, "hello\n") + frame(StreamId::Stderr, "oops\n") +
                       frame(StreamId::Stdout, "") + frame(StreamId::Stdout, big);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 8u, 9u, 13u, 4096u, 100000u}) {
    INFO("chunk size " << chunk);
    Collected got;
    MuxDecoder decoder([&](StreamId id, std::string_view data) {
      (id == StreamId::Stderr ? got.err : got.out).append(data);
      ++got.frames;
    });
    for (std::size_t pos = 0; pos < stream.size(); pos += chunk)
      decoder.feed(std::string_view(stream).substr(pos, chunk));
    CHECK(got.out == "hello\n" + big);
    CHECK(got.err == "oops\n");
    CHECK(got.frames == 4);
    CHECK(decoder.idle());
  }
}

TEST_CASE("a partial frame is held back until it completes", "[streams]") {
  std::string out;
  MuxDecoder decoder([&](StreamId, std::string_view data) { out.append(data); });
  std::string f = frame(StreamId::Stdout, "abcdef");
  decoder.feed(f.substr(0, 10));
  CHECK(out.empty());
  CHECK_FALSE(decoder.idle());
  decoder.feed(f.substr(10));
  CHECK(out == "abcdef");
}

TEST_CASE("raw TTY bytes are not taken for frames", "[streams]") {
  MuxDecoder decoder([](StreamId, std::string_view) {});
  CHECK_THROWS_AS(decoder.feed("hello world, this is a tty\n"), ProtocolError);
}

TEST_CASE("line splitter yields whole lines across chunks and the unterminated last one at finish",
          "[streams]") {
  std::vector<std::string> lines;
  LineSplitter splitter([&](std::string_view l) { lines.emplace_back(l); });
  splitter.feed("{\"a\":1}\n{\"b\"");
  CHECK(lines == std::vector<std::string>{"{\"a\":1}"});
  splitter.feed(":2}\r\n\n{\"c\":3}");
  CHECK(lines == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"});
  splitter.finish();
  CHECK(lines == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"});
}
