#include "cli/app.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

namespace fleet::cli {

int run(int argc, char** argv) {
  CLI::App app{"llmspell-fleet: runs LLMSpell kernels as Docker containers", "llmspell-fleet"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the command: `up --profile dev`
  GlobalOptions g;
  app.add_option("-H,--host", g.host,
                 "Docker engine address (default: $DOCKER_HOST or unix:///var/run/docker.sock)");
  app.add_option("-f,--file", g.file, "compose file (default compose/docker-compose.yml)");
  app.add_option("-p,--project-name", g.project,
                 "project name (default: COMPOSE_PROJECT_NAME, name:, the folder)");
  app.add_option("--profile", g.profiles, "activate a compose profile (repeatable)");
  app.add_option("--log-level", g.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.set_version_flag("--version", std::string("llmspell-fleet ") + PROJECT_VERSION);

  // --- engine
  bool version_json = false;
  auto* version = app.add_subcommand("version", "Show the fleet's and the engine's versions");
  version->add_flag("--json", version_json, "machine-readable output");
  auto* ping = app.add_subcommand("ping", "Check that the engine answers");

  // --- compose project
  bool config_services = false, config_profiles = false, config_json = false;
  auto* config = app.add_subcommand("config", "Show the resolved compose file");
  config->add_flag("--services", config_services, "the enabled services, one per line");
  config->add_flag("--profiles", config_profiles, "every profile the file names");
  config->add_flag("--json", config_json);

  std::vector<std::string> build_services;
  std::string build_context, build_tag = "llmspell:latest";
  bool build_no_cache = false;
  auto* build = app.add_subcommand("build", "Build the services' images offline through the engine");
  build->add_option("service", build_services, "services to build (default: every enabled one with a build)");
  build->add_option("--context", build_context, "build this directory instead (with --tag)");
  build->add_option("--tag,-t", build_tag, "image name for --context (default llmspell:latest)");
  build->add_flag("--no-cache", build_no_cache);

  std::vector<std::string> up_names;
  bool up_wait = false;
  int up_timeout = 120;
  auto* up = app.add_subcommand("up", "Create and start services (NAME: a profile or a service)");
  up->add_option("name", up_names, "profiles (as in `up dev`) or services");
  up->add_flag("--wait", up_wait,
               "return once every container is healthy (or running, without a healthcheck)");
  up->add_option("--timeout", up_timeout, "seconds --wait waits (default 120)");
  std::vector<std::string> up_scale;
  up->add_option("--scale", up_scale, "SERVICE=N: that many replicas (repeatable)");
  bool up_detach = true;  // up always returns once its containers are started; -d is accepted for habit
  up->add_flag("-d,--detach", up_detach, "accepted for compatibility with compose");

  bool down_volumes = false;
  std::optional<int> down_timeout;
  auto* down = app.add_subcommand("down", "Stop and remove the project's containers and networks");
  down->add_flag("-v,--volumes", down_volumes, "also remove named volumes");
  down->add_option("-t,--timeout", down_timeout, "seconds to wait for each container to stop");

  std::vector<std::string> scale_args;
  bool scale_wait = false;
  auto* scale = app.add_subcommand("scale", "Set the number of containers: SERVICE N, or SERVICE=N...");
  scale->add_option("args", scale_args)->required();
  scale->add_flag("--wait", scale_wait);

  bool ps_all = false, ps_json = false;
  auto* ps = app.add_subcommand("ps", "List the project's containers");
  ps->add_flag("-a,--all", ps_all, "include stopped containers");
  ps->add_flag("--json", ps_json);

  std::vector<std::string> log_names;
  bool log_follow = false, log_timestamps = false;
  std::optional<int> log_tail;
  std::string log_since;
  auto* logs = app.add_subcommand("logs", "Show container output, prefixed by container");
  logs->add_option("name", log_names, "services or containers (default: all)");
  logs->add_flag("-f,--follow", log_follow, "keep following, including containers that start later");
  logs->add_option("-n,--tail", log_tail, "last N lines of each");
  logs->add_option("--since", log_since, "unix time, duration (10m) or RFC 3339 time");
  logs->add_flag("-t,--timestamps", log_timestamps);

  std::vector<std::string> health_names;
  bool health_json = false;
  auto* health = app.add_subcommand("health", "Health and port checks; exit 1 when anything is not healthy");
  health->add_option("name", health_names);
  health->add_flag("--json", health_json);

  int shell_index = 1;
  auto* shell = app.add_subcommand(
      "shell", "A shell (or CMD) in a service's container: shell [--index N] SERVICE [CMD...]");
  shell->add_option("--index", shell_index, "which replica (default 1)");
  shell->prefix_command();    // everything after SERVICE belongs to CMD...
  shell->fallthrough(false);  // ...so nothing after it may be taken for a global option

  auto* clean =
      app.add_subcommand("clean", "down -v, plus the project's built images and dead test runs' leftovers");

  // --- single kernels
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
  auto* list = app.add_subcommand("list", "List the kernels (spawned and compose ones)");
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
    if (*config) return cmd_config(g, config_services, config_profiles, config_json);
    if (*build)
      return build_context.empty() ? cmd_build(g, build_services, build_no_cache)
                                   : cmd_image_build(g, build_context, build_tag, build_no_cache);
    if (*up) return cmd_up(g, up_names, up_wait, up_timeout, up_scale);
    if (*down) return cmd_down(g, down_volumes, down_timeout);
    if (*scale) return cmd_scale(g, scale_args, scale_wait);
    if (*ps) return cmd_ps(g, ps_all, ps_json);
    if (*logs) return cmd_logs(g, log_names, log_follow, log_tail, log_since, log_timestamps);
    if (*health) return cmd_health(g, health_names, health_json);
    if (*shell) return cmd_shell(g, shell->remaining(), shell_index);
    if (*clean) return cmd_clean(g);
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
