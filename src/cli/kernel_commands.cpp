// Engine and single-kernel commands: version, ping, build --context, spawn, list, stop.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "fleet/image_build.hpp"
#include "util/units.hpp"

namespace fleet::cli {

engine::Client make_client(const GlobalOptions& g) {
  return g.host.empty() ? engine::Client::from_environment()
                        : engine::Client(engine::Endpoint::parse(g.host));
}

int cmd_version(const GlobalOptions& g, bool json) {
  engine::Client client = make_client(g);
  engine::VersionInfo v = client.version();
  if (json) {
    std::cout << nlohmann::json{{"client",
                                 {{"version", PROJECT_VERSION}, {"api_version", client.api_version().str()}}},
                                {"engine", v.raw}}
                     .dump(2)
              << "\n";
    return kExitOk;
  }
  std::cout << "llmspell-fleet " << PROJECT_VERSION << "\n"
            << "engine:        Docker " << v.version << " (" << v.os << "/" << v.arch << ")\n"
            << "endpoint:      " << client.endpoint().address << "\n"
            << "engine API:    " << v.api_version << " (minimum " << v.min_api_version << ")\n"
            << "API in use:    " << client.api_version().str() << "\n";
  return kExitOk;
}

int cmd_ping(const GlobalOptions& g) {
  engine::Client client = make_client(g);
  engine::PingResult pong = client.ping();
  std::cout << "OK " << client.endpoint().address << " (API " << pong.api_version << ")\n";
  return kExitOk;
}

int cmd_image_build(const GlobalOptions& g, const std::string& context, const std::string& tag,
                    bool no_cache) {
  engine::Client client = make_client(g);
  fleet::ImageBuildOptions o{context, tag, no_cache};
  std::string id = fleet::build_image(client, o, [](std::string_view line) { std::cout << line << "\n"; });
  std::cout << "built " << tag << " (" << id << ")\n";
  return kExitOk;
}

namespace {
nlohmann::json kernel_json(const fleet::KernelRecord& k) {
  return {{"kernel_id", k.kernel_id},
          {"container", k.name},
          {"container_id", k.container_id},
          {"language", k.language},
          {"config", k.config},
          {"state", k.state},
          {"status", k.status},
          {"shell_port", k.shell_host_port},
          {"connection_file", k.connection_file.string()}};
}
}  // namespace

int cmd_spawn(const GlobalOptions& g, SpawnArgs& a) {
  auto bytes = util::parse_size(a.memory);
  if (!bytes) throw UsageError("--memory \"" + a.memory + "\" is not a size (e.g. 512m, 2g)");
  a.options.memory_bytes = *bytes;
  for (const auto& l : a.labels) {
    auto eq = l.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--label \"" + l + "\" is not KEY=VALUE");
    a.options.extra_labels[l.substr(0, eq)] = l.substr(eq + 1);
  }
  engine::Client client = make_client(g);
  fleet::KernelService kernels(client, fleet::FleetPaths::defaults());
  fleet::KernelRecord k = kernels.spawn(a.options);
  if (a.json) {
    std::cout << kernel_json(k).dump(2) << "\n";
  } else {
    std::cout << k.kernel_id << " (" << k.language << ", " << k.config
              << ") serving on 127.0.0.1:" << k.shell_host_port << "\nconnect: jupyter console --existing "
              << k.connection_file.string() << "\n";
  }
  return kExitOk;
}

int cmd_list(const GlobalOptions& g, bool json) {
  engine::Client client = make_client(g);
  fleet::KernelService kernels(client, fleet::FleetPaths::defaults());
  auto all = kernels.list();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : all) out.push_back(kernel_json(k));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-32s %-11s %-14s %-10s %-6s %s\n", "KERNEL", "LANGUAGE", "CONFIG", "STATE", "PORT",
              "CONNECTION FILE");
  for (const auto& k : all)
    std::printf("%-32s %-11s %-14s %-10s %-6d %s\n", k.kernel_id.c_str(), k.language.c_str(),
                k.config.c_str(), k.state.c_str(), k.shell_host_port, k.connection_file.string().c_str());
  return kExitOk;
}

int cmd_stop(const GlobalOptions& g, const std::vector<std::string>& selectors, int timeout) {
  engine::Client client = make_client(g);
  fleet::KernelService kernels(client, fleet::FleetPaths::defaults());
  for (const auto& s : selectors) std::cout << "stopped " << kernels.stop(s, timeout).kernel_id << "\n";
  return kExitOk;
}

}  // namespace fleet::cli
