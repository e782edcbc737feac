#include "cli/app.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "engine/client.hpp"

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
    return kExitBadInput;
  } catch (...) {
    ExitStatus status = exit_status_for_current_exception();
    std::cerr << "llmspell-fleet: " << status.message << "\n";
    return status.code;
  }
}

}  // namespace fleet::cli
