// The command handlers: each parses nothing (CLI11 did), calls one fleet operation and renders.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/client.hpp"
#include "fleet/kernels.hpp"

namespace fleet::cli {

struct GlobalOptions {
  std::string host;  // -H: overrides DOCKER_HOST
  std::string log_level = "warn";
  std::string file = "compose/docker-compose.yml";  // -f
  std::string project;                              // -p
  std::vector<std::string> profiles;                // --profile
};

engine::Client make_client(const GlobalOptions& g);

// engine
int cmd_version(const GlobalOptions& g, bool json);
int cmd_ping(const GlobalOptions& g);

// single kernels
struct SpawnArgs {
  fleet::SpawnOptions options;
  std::string memory = "512m";
  std::vector<std::string> labels;
  bool json = false;
};
int cmd_image_build(const GlobalOptions& g, const std::string& context, const std::string& tag,
                    bool no_cache);
int cmd_spawn(const GlobalOptions& g, SpawnArgs& a);
int cmd_list(const GlobalOptions& g, bool json);
int cmd_stop(const GlobalOptions& g, const std::vector<std::string>& selectors, int timeout);

// compose project
int cmd_config(const GlobalOptions& g, bool services, bool profiles, bool json);
int cmd_build(const GlobalOptions& g, const std::vector<std::string>& services, bool no_cache);
int cmd_up(const GlobalOptions& g, const std::vector<std::string>& names, bool wait, int timeout,
           const std::vector<std::string>& scale);
int cmd_down(const GlobalOptions& g, bool volumes, std::optional<int> timeout);
int cmd_scale(const GlobalOptions& g, const std::vector<std::string>& args, bool wait);
int cmd_ps(const GlobalOptions& g, bool all, bool json);
int cmd_logs(const GlobalOptions& g, const std::vector<std::string>& names, bool follow,
             std::optional<int> tail, const std::string& since, bool timestamps);
int cmd_health(const GlobalOptions& g, const std::vector<std::string>& names, bool json);
int cmd_shell(const GlobalOptions& g, std::vector<std::string> args, int index);
int cmd_clean(const GlobalOptions& g);

}  // namespace fleet::cli
