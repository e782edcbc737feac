#include "cli/app.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "engine/client.hpp"
#include "fleet/image_build.hpp"
#include "fleet/kernels.hpp"
#include "util/units.hpp"

namespace fleet::cli {
namespace {

struct GlobalOptions {
  std::string host;  // -H: overrides DOCKER_HOST
  std::string log_level = "warn";
};

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

int cmd_build(const GlobalOptions& g, const fleet::ImageBuildOptions& options) {
  engine::Client client = make_client(g);
  std::string id =
      fleet::build_image(client, options, [](std::string_view line) { std::cout << line << "\n"; });
  std::cout << "built " << options.tag << " (" << id << ")\n";
  return kExitOk;
}

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

struct SpawnArgs {
  fleet::SpawnOptions options;
  std::string memory = "512m";
  std::vector<std::string> labels;
  bool json = false;
};

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
  std::printf("%-16s %-11s %-14s %-10s %-6s %s\n", "KERNEL", "LANGUAGE", "CONFIG", "STATE", "PORT",
              "CONNECTION FILE");
  for (const auto& k : all)
    std::printf("%-16s %-11s %-14s %-10s %-6d %s\n", k.kernel_id.c_str(), k.language.c_str(),
                k.config.c_str(), k.state.c_str(), k.shell_host_port, k.connection_file.string().c_str());
  return kExitOk;
}

int cmd_stop(const GlobalOptions& g, const std::vector<std::string>& selectors, int timeout) {
  engine::Client client = make_client(g);
  fleet::KernelService kernels(client, fleet::FleetPaths::defaults());
  for (const auto& s : selectors) std::cout << "stopped " << kernels.stop(s, timeout).kernel_id << "\n";
  return kExitOk;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"llmspell-fleet: runs LLMSpell kernels as Docker containers", "llmspell-fleet"};
  app.require_subcommand(1);
  GlobalOptions g;
  app.add_option("-H,--host", g.host,
                 "Docker engine address (default: $DOCKER_HOST or unix:///var/run/docker.sock)");
  app.add_option("--log-level", g.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.set_version_flag("--version", std::string("llmspell-fleet ") + PROJECT_VERSION);

  bool version_json = false;
  auto* version = app.add_subcommand("version", "Show the fleet's and the engine's versions");
  version->add_flag("--json", version_json, "machine-readable output");
  auto* ping = app.add_subcommand("ping", "Check that the engine answers");

  fleet::ImageBuildOptions build_options{fleet::FleetPaths::defaults().kernel_context};
  auto* build = app.add_subcommand("build", "Build the kernel image offline through the engine");
  build->add_option("--tag,-t", build_options.tag, "image name (default llmspell:latest)");
  build->add_option("--context", build_options.context, "build context directory");
  build->add_flag("--no-cache", build_options.no_cache);

  SpawnArgs spawn_args;
  auto* spawn = app.add_subcommand("spawn", "Start one kernel container and write its host connection file");
  spawn->add_option("config", spawn_args.options.config, "config file in configs/ (default default.toml)");
  spawn->add_option("language", spawn_args.options.language, "lua or javascript (default lua)");
  spawn->add_option("--image", spawn_args.options.image, "kernel image (default llmspell:latest)");
  spawn->add_option("--memory", spawn_args.memory, "memory limit (default 512m)");
  spawn->add_option("--cpus", spawn_args.options.cpus, "CPU limit (default 0.5)");
  spawn->add_option("--label", spawn_args.labels, "extra KEY=VALUE label (repeatable)");
  spawn->add_flag("--json", spawn_args.json);

  bool list_json = false;
  auto* list = app.add_subcommand("list", "List the kernels");
  list->add_flag("--json", list_json);

  std::vector<std::string> stop_selectors;
  int stop_timeout = 30;
  auto* stop =
      app.add_subcommand("stop", "Stop and remove kernels (by kernel id, container name or host port)");
  stop->add_option("kernel", stop_selectors)->required();
  stop->add_option("--timeout,-t", stop_timeout,
                   "seconds to let a kernel finish before SIGKILL (default 30)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help or the parse error
    return code == 0 ? kExitOk : kExitBadInput;
  }
  spdlog::set_level(spdlog::level::from_str(g.log_level));

  try {
    if (*version) return cmd_version(g, version_json);
    if (*ping) return cmd_ping(g);
    if (*build) return cmd_build(g, build_options);
    if (*spawn) return cmd_spawn(g, spawn_args);
    if (*list) return cmd_list(g, list_json);
    if (*stop) return cmd_stop(g, stop_selectors, stop_timeout);
    return kExitBadInput;
  } catch (...) {
    ExitStatus status = exit_status_for_current_exception();
    std::cerr << "llmspell-fleet: " << status.message << "\n";
    return status.code;
  }
}

}  // namespace fleet::cli
