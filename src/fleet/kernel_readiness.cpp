#include "fleet/kernel_readiness.hpp"

#include "fleet/connection_files.hpp"
#include "fleet/errors.hpp"
#include "util/poll.hpp"
#include "util/tar.hpp"

namespace fleet {
namespace {
// The tail of a container's output, for an error message about why it did not come up.
std::string last_output(engine::Api& client, const std::string& id) {
  std::string out;
  try {
    client.container_logs(id, {.tail = 5}, [&](const engine::OutputChunk& c) {
      out.append(c.data);
      return true;
    });
  } catch (const engine::EngineError&) {
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}
}  // namespace

void wait_until_kernel_serves(engine::Api& client, const std::string& id, std::chrono::milliseconds timeout,
                              util::Clock& clock) {
  engine::ContainerInspect c = client.inspect_container(id);
  std::string status_file =
      container_env(c, "LLMSPELL_STATE_DIR", "/var/lib/llmspell/state") + "/status.json";
  bool serving = util::poll_until(
      [&] {
        try {
          for (const auto& entry : util::read_tar(client.get_archive(id, status_file).tar)) {
            auto status = nlohmann::json::parse(entry.content, nullptr, false);
            if (status.is_object() && status.value("execution_state", "") == "idle") return true;
          }
        } catch (const engine::NotFoundError&) {
          // Not written yet.
        }
        c = client.inspect_container(id);
        if (!c.state.running && !c.state.restarting)
          throw OperationFailed("kernel container " + c.name + " " + c.state.status + " (exit code " +
                                std::to_string(c.state.exit_code) +
                                ") before serving: " + last_output(client, id));
        return false;
      },
      {.timeout = timeout, .interval = std::chrono::milliseconds(50), .clock = &clock});
  if (!serving)
    throw OperationFailed("kernel container " + c.name + " did not start serving within " +
                          std::to_string(timeout.count()) + " ms: " + last_output(client, id));
}

}  // namespace fleet
