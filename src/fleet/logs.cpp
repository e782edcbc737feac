// logs: every selected container read at once, output split into whole lines. With follow, a
// watch on the project's events starts following its containers that appear later.
#include <ctime>
#include <mutex>
#include <set>
#include <thread>

#include "fleet/labels.hpp"
#include "fleet/operations.hpp"

namespace fleet {

void logs(Context& ctx, const LogsRequest& request, const LineSink& sink) {
  std::mutex sink_mutex, threads_mutex;
  std::set<std::string> following;
  std::vector<std::thread> threads;
  std::exception_ptr failure;
  std::set<std::string> wanted(request.services.begin(), request.services.end());

  auto read_one = [&](const std::string& id, const std::string& name, std::optional<std::int64_t> since) {
    try {
      std::string partial[3];
      engine::LogsOptions o{.follow = request.follow,
                            .tail = request.tail,
                            .since = since,
                            .timestamps = request.timestamps,
                            .cancel = request.cancel};
      ctx.client.container_logs(id, o, [&](const engine::OutputChunk& chunk) {
        const Stream stream = chunk.stream == engine::StreamId::Stderr ? Stream::Stderr : Stream::Stdout;
        std::string& buffer = partial[static_cast<int>(stream)];
        buffer.append(chunk.data);
        for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
          std::lock_guard lock(sink_mutex);
          sink(name, stream, std::string_view(buffer).substr(0, nl));
        }
        return true;
      });
      std::lock_guard lock(sink_mutex);
      for (int s : {1, 2})
        if (!partial[s].empty()) sink(name, static_cast<Stream>(s), partial[s]);
    } catch (const engine::NotFoundError&) {
      // Removed while we read: its output ends here.
    } catch (...) {
      std::lock_guard lock(threads_mutex);
      if (!failure) failure = std::current_exception();
    }
  };
  auto follow_container = [&](const std::string& id, const std::string& name,
                              std::optional<std::int64_t> since) {
    std::lock_guard lock(threads_mutex);
    if (!following.insert(id).second) return;
    threads.emplace_back(read_one, id, name, since);
  };

  auto since_start = static_cast<std::int64_t>(std::time(nullptr));
  for (const auto& c : request.containers) follow_container(c.id, c.name, request.since);

  if (request.follow && !request.project.empty()) {
    // New containers of the selected services (or of the project) are followed from their start.
    try {
      ctx.client.events(
          {.since = since_start,
           .filters = {{"type", {"container"}},
                       {"event", {"start"}},
                       {"label", {std::string(labels::kComposeProject) + "=" + request.project}}},
           .cancel = request.cancel},
          [&](const engine::Event& e) {
            auto service =
                e.attributes.count(labels::kComposeService) ? e.attributes.at(labels::kComposeService) : "";
            auto name = e.attributes.count("name") ? e.attributes.at("name") : e.actor_id.substr(0, 12);
            if (wanted.empty() || wanted.count(service)) follow_container(e.actor_id, name, e.time);
            return true;
          });
    } catch (...) {
      std::lock_guard lock(threads_mutex);
      if (!failure) failure = std::current_exception();
    }
  }
  std::vector<std::thread> to_join;
  {
    std::lock_guard lock(threads_mutex);
    to_join.swap(threads);
  }
  for (auto& t : to_join) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace fleet
