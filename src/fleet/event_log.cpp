// events.jsonl: appended by every fleet process, followed by `events` and serve (event_log.hpp).
#include "fleet/event_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

namespace fleet {
namespace {

constexpr std::uintmax_t kRotateBytes = 1 << 20;
constexpr auto kFollowInterval = std::chrono::milliseconds(100);

FleetEvent from_json(const nlohmann::json& j) {
  FleetEvent e;
  auto text = [&j](const char* key) { return j.value(key, std::string()); };
  e.type = text("type");
  e.action = text("action");
  e.container = text("container");
  e.container_id = text("container_id");
  e.kernel_id = text("kernel_id");
  e.origin = text("origin");
  e.project = text("project");
  e.service = text("service");
  e.owner = text("owner");
  e.health = text("health");
  e.message = text("message");
  if (j.contains("details")) e.details = j["details"];
  e.time_nano = j.value("time_nano", std::int64_t{0});
  return e;
}

}  // namespace

std::int64_t now_nano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_event(const FleetHome& home, FleetEvent event) {
  if (event.time_nano == 0) event.time_nano = now_nano();
  try {
    const auto file = home.events_file();
    std::error_code ec;
    if (std::filesystem::file_size(file, ec) > kRotateBytes && !ec) {
      // Followers notice the shorter file and start again from its beginning.
      std::filesystem::rename(file, home.root / "events.1.jsonl", ec);
    }
    const std::string line = event.to_json().dump() + "\n";
    int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), file.string());
    ssize_t written = ::write(fd, line.data(), line.size());
    ::close(fd);
    if (written != static_cast<ssize_t>(line.size()))
      throw std::runtime_error("short write to " + file.string());
  } catch (const std::exception& e) {
    std::cerr << "event not recorded: " << e.what() << std::endl;
  }
}

void follow_events(const FleetHome& home, std::optional<std::int64_t> since_nano, const EventSink& sink,
                   const std::atomic<bool>* cancel) {
  const auto file = home.events_file();
  std::uintmax_t offset = 0;
  std::error_code ec;
  // Without a replay, only what comes after now.
  if (!since_nano) offset = std::filesystem::file_size(file, ec), offset = ec ? 0 : offset;
  std::string partial;
  while (!(cancel && *cancel)) {
    auto size = std::filesystem::file_size(file, ec);
    if (ec) size = 0;
    if (size < offset) offset = 0;  // rotated
    if (size > offset) {
      std::ifstream in(file, std::ios::binary);
      in.seekg(static_cast<std::streamoff>(offset));
      std::string chunk(size - offset, '\0');
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      chunk.resize(static_cast<std::size_t>(in.gcount()));
      offset += chunk.size();
      partial += chunk;
      std::size_t start = 0;
      for (auto end = partial.find('\n'); end != std::string::npos; end = partial.find('\n', start)) {
        auto j = nlohmann::json::parse(partial.substr(start, end - start), nullptr, false);
        start = end + 1;
        if (!j.is_object()) continue;
        FleetEvent e = from_json(j);
        if (since_nano && e.time_nano < *since_nano) continue;
        if (!sink(e)) return;
      }
      partial.erase(0, start);
    }
    std::this_thread::sleep_for(kFollowInterval);
  }
}

}  // namespace fleet
