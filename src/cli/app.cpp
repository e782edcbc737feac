#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "server/server.hpp"
#include "util/suggest.hpp"

namespace fleet::cli {
namespace {

// The file `docker compose` would read without -f: COMPOSE_FILE, else the first of its default names
// in the current folder; else the fleet's own project file.
// The fleet reads one file: what compose would merge in besides is named, not silently dropped.
std::string default_compose_file(const std::string& fleet_default) {
  if (const char* env = std::getenv("COMPOSE_FILE"); env && *env) {
    std::string files = env;
    if (files.find(':') != std::string::npos)
      throw UsageError("COMPOSE_FILE names several files (" + files +
                       "); the fleet reads one: name it with -f");
    return files;
  }
  for (const char* name : {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"})
    if (std::filesystem::exists(name)) {
      std::string stem = std::string(name).substr(0, std::string(name).rfind('.'));
      for (const char* ext : {".yaml", ".yml"})
        if (std::filesystem::exists(stem + ".override" + ext))
          std::cerr << "llmspell-fleet: warning: " << stem << ".override" << ext
                    << " is not merged: the fleet reads " << name << " alone\n";
      return name;
    }
  return fleet_default;
}

const std::vector<std::string> kValueOptions = {
    "-H", "--host", "-f", "--file", "-p", "--project-name", "--profile", "--log-level", "--backend"};
const std::vector<std::string> kFlagOptions = {"-h", "--help", "--version"};

// The first word that is not a global option: the command. An unknown one is named, with the
// nearest known command, rather than CLI11's "A subcommand is required"; so is an unknown global
// option before it (else its value would be taken for the command).
void check_command_word(int argc, char** argv, const CLI::App& app) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") return;
    if (!arg.empty() && arg[0] == '-') {
      std::string option = arg.substr(0, arg.find('='));
      bool value = std::find(kValueOptions.begin(), kValueOptions.end(), option) != kValueOptions.end();
      bool flag = std::find(kFlagOptions.begin(), kFlagOptions.end(), option) != kFlagOptions.end();
      if (!value && !flag) {
        std::vector<std::string> all = kValueOptions;
        all.insert(all.end(), kFlagOptions.begin(), kFlagOptions.end());
        std::string near = option.size() > 2 ? util::nearest(option, all) : "";
        throw UsageError("unknown option \"" + option + "\"" +
                         (near.empty() ? "" : "; did you mean \"" + near + "\"?") +
                         " (llmspell-fleet --help lists them)");
      }
      if (value && option == arg) ++i;
      continue;
    }
    std::vector<std::string> commands;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      commands.push_back(sub->get_name());
    if (std::find(commands.begin(), commands.end(), arg) != commands.end()) return;
    std::string near = util::nearest(arg, commands);
    throw UsageError("unknown command \"" + arg + "\"" +
                     (near.empty() ? "" : "; did you mean \"" + near + "\"?") +
                     " (llmspell-fleet --help lists them)");
  }
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"llmspell-fleet: runs LLMSpell kernels as Docker containers", "llmspell-fleet"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the command: `up --profile dev`
  FleetOptions g;
  app.add_option("-H,--host", g.docker_host,
                 "Docker engine address (default: $DOCKER_HOST or unix:///var/run/docker.sock)");
  auto* file_option = app.add_option(
      "-f,--file", g.compose_file,
      "compose file (default: $COMPOSE_FILE, else compose.yaml, compose.yml, docker-compose.yaml or "
      "docker-compose.yml here, else compose/docker-compose.yml)");
  app.add_option("-p,--project-name", g.project_name,
                 "project name (default: COMPOSE_PROJECT_NAME, name:, the folder)");
  app.add_option("--profile", g.profiles, "activate a compose profile (repeatable)");
  app.add_option("--backend", g.backend,
                 "local (this engine's containers) or swarm (services of the swarm it manages); default: "
                 "the compose file's x-fleet.backend, else local");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "accepted for compatibility")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.set_version_flag("--version", std::string("llmspell-fleet ") + PROJECT_VERSION);

  // --- engine
  bool version_json = false;
  auto* version = app.add_subcommand("version", "Show the fleet's and the engine's versions");
  version->add_flag("--json", version_json, "machine-readable output");
  auto* ping = app.add_subcommand("ping", "Check that the engine answers");

  // --- compose project
  ConfigOptions config_options;
  bool config_json = false;
  auto* config = app.add_subcommand("config", "Show the resolved compose file");
  config->add_flag("--services", config_options.services, "the enabled services, one per line");
  config->add_flag("--profiles", config_options.profiles, "every profile the file names");
  config->add_flag("--json", config_json, "JSON, as `docker compose config --format json` (default: YAML)");

  BuildOptions build_options;
  auto* build = app.add_subcommand("build", "Build the services' images offline through the engine");
  build->add_option("service", build_options.services,
                    "services to build (default: every enabled one with a build)");
  build->add_option("--context", build_options.context, "build this directory instead (with --tag)");
  build->add_option("--tag,-t", build_options.tag, "image name for --context (default llmspell:latest)");
  build->add_flag("--no-cache", build_options.no_cache);

  UpOptions up_options;
  std::vector<std::string> up_scale;
  int up_timeout = 120;
  auto* up = app.add_subcommand("up", "Create and start services (NAME: a profile or a service)");
  up->add_option("name", up_options.names, "profiles (as in `up dev`) or services");
  up->add_flag("--wait", up_options.wait,
               "return once every container is healthy (or running, without a healthcheck)");
  up->add_option("--timeout", up_timeout, "seconds --wait waits (default 120)")->check(CLI::Range(0, 86400));
  up->add_option("--scale", up_scale, "SERVICE=N: that many replicas (repeatable)");
  bool up_detach = true;  // up always returns once its containers are started; -d is accepted for habit
  up->add_flag("-d,--detach", up_detach, "accepted for compatibility with compose");

  DownOptions down_options;
  auto* down = app.add_subcommand("down", "Stop and remove the project's containers and networks");
  down->add_flag("-v,--volumes", down_options.volumes, "also remove named volumes");
  down->add_option("-t,--timeout", down_options.timeout, "seconds to wait for each container to stop")
      ->check(CLI::Range(0, 86400));

  std::vector<std::string> scale_args;
  bool scale_wait = false;
  auto* scale = app.add_subcommand("scale", "Set the number of containers: SERVICE N, or SERVICE=N...");
  scale->add_option("args", scale_args)->required();
  scale->add_flag("--wait", scale_wait);

  bool ps_all = false, ps_json = false;
  auto* ps = app.add_subcommand("ps", "List the project's containers");
  ps->add_flag("-a,--all", ps_all, "include stopped containers");
  ps->add_flag("--json", ps_json);

  bool nodes_json = false;
  auto* nodes =
      app.add_subcommand("nodes", "List the swarm's nodes: state, availability, tasks, kernels, use");
  nodes->add_flag("--json", nodes_json);
  std::string drain_node_name;
  int drain_node_timeout = 120;
  bool drain_node_json = false;
  auto* drain_node = app.add_subcommand(
      "drain-node",
      "Move every kernel off a swarm node with its state (checkpoint, drain, restore elsewhere)");
  drain_node->add_option("node", drain_node_name, "hostname or node id")->required();
  drain_node->add_option("-t,--timeout", drain_node_timeout, "seconds to wait for each kernel's new place")
      ->check(CLI::Range(1, 3600));
  drain_node->add_flag("--json", drain_node_json);
  std::string activate_node_name;
  auto* activate_node = app.add_subcommand("activate-node", "Make a drained swarm node take tasks again");
  activate_node->add_option("node", activate_node_name, "hostname or node id")->required();

  auto* clean =
      app.add_subcommand("clean", "down -v, plus the project's built images and dead test runs' leftovers");

  // --- any container of the fleet
  LogsOptions logs_options;
  auto* logs =
      app.add_subcommand("logs", "Show output of kernels, services or containers, prefixed by container");
  logs->add_option("name", logs_options.names,
                   "kernel ids, host ports, services or containers (default: the project's containers; every "
                   "kernel where there is no compose file)");
  logs->add_flag("-f,--follow", logs_options.follow, "keep following, including containers that start later");
  logs->add_option("-n,--tail", logs_options.tail, "last N lines of each")->check(CLI::Range(0, 100'000'000));
  logs->add_option("--since", logs_options.since, "unix time, duration (10m) or RFC 3339 time");
  logs->add_flag("-t,--timestamps", logs_options.timestamps);

  std::vector<std::string> health_names;
  bool health_json = false;
  auto* health = app.add_subcommand("health",
                                    "Engine health, port checks and a heartbeat round trip per kernel; exit "
                                    "1 when anything is not healthy");
  health->add_option("name", health_names,
                     "kernels, services or containers (default: all kernels and the project)");
  health->add_flag("--json", health_json);

  int shell_index = 1;
  auto* shell = app.add_subcommand("shell",
                                   "A shell (or CMD) in a kernel's or service's container: shell [--index N] "
                                   "KERNEL|SERVICE|CONTAINER [CMD...]");
  shell->add_option("--index", shell_index, "which replica of a service (default 1)");
  shell->prefix_command();    // everything after the target belongs to CMD...
  shell->fallthrough(false);  // ...so nothing after it may be taken for a global option

  // --- kernels
  SpawnOptions spawn_options;
  bool spawn_json = false;
  auto* spawn = app.add_subcommand("spawn", "Start one kernel and write its host connection file");
  spawn->add_option("config", spawn_options.config, "a kernel config of configs/ (default default.toml)");
  spawn->add_option("language", spawn_options.language, "lua or javascript (default lua)");
  spawn->add_option("--memory", spawn_options.memory, "memory limit (default 512m)");
  spawn->add_option("--cpus", spawn_options.cpus, "CPU limit (default 0.5)");
  spawn->add_option("--node", spawn_options.node, "swarm backend: the node to run it on (hostname or id)");
  spawn->add_option("--name", spawn_options.name, "the kernel's id (default kernel-<8 hex digits>)");
  spawn->add_option("--owner", spawn_options.owner, "who it is for (default: you)");
  spawn->add_option("--image", spawn_options.image, "kernel image (default llmspell:latest)");
  spawn->add_option("--label", spawn_options.labels, "extra KEY=VALUE label (repeatable)");
  spawn->add_flag("--json", spawn_json);

  ListOptions list_options;
  bool list_json = false;
  auto* list = app.add_subcommand("list", "List every kernel (spawned and compose ones)");
  list->add_flag("-v,--verbose", list_options.verbose, "add CPU, memory, uptime and connected clients");
  list->add_option("--owner", list_options.owner, "only this owner's kernels");
  list->add_flag("--json", list_json);

  StopOptions stop_options;
  bool stop_json = false;
  auto* stop =
      app.add_subcommand("stop", "Stop and remove kernels (by kernel id, container name or host port)");
  stop->add_option("kernel", stop_options.names)->required();
  stop->add_option("-t,--timeout", stop_options.timeout,
                   "seconds to let a kernel finish before SIGKILL (default 30)")
      ->check(CLI::Range(0, 86400));
  stop->add_option("--drain-timeout", stop_options.drain_timeout,
                   "seconds to wait for the kernel to be idle before stopping it anyway (E2093)")
      ->check(CLI::Range(0, 86400));
  bool stop_checkpoint = false, stop_no_checkpoint = false;
  auto* checkpoint_flag =
      stop->add_flag("--checkpoint", stop_checkpoint,
                     "save the kernel's user state first (default: its template says, else yes)");
  stop->add_flag("--no-checkpoint", stop_no_checkpoint, "do not save it")->excludes(checkpoint_flag);
  stop->add_flag("--json", stop_json);

  StopAllOptions stop_all_options;
  bool stop_all_json = false;
  auto* stop_all =
      app.add_subcommand("stop-all", "Stop every spawned kernel of yours (compose kernels are left to down)");
  stop_all->add_flag("--force", stop_all_options.force, "no grace period");
  stop_all->add_option("--owner", stop_all_options.scope.owner, "this owner's kernels (default: yours)");
  stop_all->add_flag("--all", stop_all_options.scope.all_owners, "everyone's kernels");
  stop_all->add_flag("--json", stop_all_json);

  bool cleanup_json = false;
  OwnerScope cleanup_scope;
  auto* cleanup = app.add_subcommand(
      "cleanup",
      "Remove your exited and dead kernels, stale connection files and registry entries without a container");
  cleanup->add_option("--owner", cleanup_scope.owner, "this owner's kernels (default: yours)");
  cleanup->add_flag("--all", cleanup_scope.all_owners, "everyone's kernels");
  cleanup->add_flag("--json", cleanup_json);

  FindOptions find_options;
  bool find_json = false;
  auto* find = app.add_subcommand("find", "A healthy kernel of this template of yours, or a new one");
  find->add_option("--language", find_options.language, "lua or javascript (default lua)");
  find->add_option("--config", find_options.config, "a kernel config of configs/ (default default.toml)");
  find->add_flag("--shared", find_options.shared, "anyone's kernel will do (a collaborative session)");
  find->add_option("--owner", find_options.owner, "find for this owner (default: you)");
  find->add_option("--memory", find_options.memory, "the template's memory limit (default 512m)");
  find->add_option("--cpus", find_options.cpus, "the template's CPU limit (default 0.5)");
  find->add_option("--label", find_options.labels,
                   "extra KEY=VALUE label on a kernel it creates (repeatable)");
  find->add_flag("--json", find_json);

  // --- the fleet over HTTP
  server::ServerOptions serve_options;
  std::string serve_token_file;
  auto* serve = app.add_subcommand("serve",
                                   "The fleet over HTTP: the REST API, server-sent events (loopback unless "
                                   "given a token)");
  serve->add_option("--host", serve_options.host,
                    "address to listen on (default 127.0.0.1; another needs a token)");
  serve->add_option("--port", serve_options.port, "TCP port (default 9550)")->check(CLI::Range(0, 65535));
  auto* token_option = serve->add_option("--token", serve_options.token,
                                         "require Authorization: Bearer TOKEN on every request");
  serve
      ->add_option("--token-file", serve_token_file,
                   "the token, from a file (default: $LLMSPELL_FLEET_TOKEN)")
      ->excludes(token_option);
  serve->add_option("--allow-host", serve_options.allow_hosts,
                    "a Host name to answer to besides localhost and IP addresses (repeatable)");
  serve->add_option("--label", serve_options.labels,
                    "KEY=VALUE label on the kernels its warm pools and Jupyter gateway make (repeatable)");

  bool metrics_json = false;
  auto* metrics = app.add_subcommand("metrics", "Kernels by state; CPU and memory per kernel and in total");
  metrics->add_flag("--json", metrics_json);

  TopArgs top_args;
  auto* top = app.add_subcommand("top",
                                 "The fleet live: kernels' CPU, memory, clients and activity, warm pools, "
                                 "the autoscaler's decisions (q quits)");
  top->add_option("--interval", top_args.interval, "seconds between refreshes (default 2)")
      ->check(CLI::Range(0.1, 3600.0));
  top->add_flag("--no-stream,--once", top_args.once, "print one refresh and exit");

  KernelspecOptions kernelspec_options;
  bool kernelspec_json = false;
  auto* kernelspec = app.add_subcommand("kernelspec", "Jupyter kernelspecs that run fleet kernels");
  kernelspec->require_subcommand(1);
  auto* kernelspec_install = kernelspec->add_subcommand(
      "install", "Write a kernelspec per language and kernel config (llmspell-lua-openai, ...)");
  auto* user_flag =
      kernelspec_install->add_flag("--user")->description("into your Jupyter data folder (the default)");
  auto* prefix_option =
      kernelspec_install
          ->add_option("--prefix", kernelspec_options.prefix, "into PREFIX/share/jupyter/kernels")
          ->excludes(user_flag);
  kernelspec_install
      ->add_flag("--sys-prefix", kernelspec_options.sys_prefix,
                 "into the Python environment's kernels folder")
      ->excludes(user_flag)
      ->excludes(prefix_option);
  kernelspec_install->add_option("--language", kernelspec_options.language,
                                 "only this language (lua, javascript)");
  kernelspec_install->add_option("--config", kernelspec_options.config,
                                 "only this kernel config of configs/");
  kernelspec_install->add_option("--name", kernelspec_options.name,
                                 "the spec's name (with --language and --config: one spec)");
  kernelspec_install->add_option("--label", kernelspec_options.labels,
                                 "KEY=VALUE label on the kernels the specs launch (repeatable)");
  kernelspec_install->add_flag("--json", kernelspec_json, "what was written, as JSON");

  LaunchOptions launch_options;
  auto* kernel_launch = app.add_subcommand(
      "kernel-launch",
      "Run a fleet kernel on the ports and key of a Jupyter connection file (a kernelspec's argv)");
  kernel_launch
      ->add_option("--connection-file", launch_options.connection_file, "written by the Jupyter client")
      ->required();
  kernel_launch->add_option("--language", launch_options.language, "lua or javascript (default lua)");
  kernel_launch->add_option("--config", launch_options.config,
                            "a kernel config of configs/ (default default.toml)");
  kernel_launch->add_option("--owner", launch_options.owner, "who it is for (default: you)");
  kernel_launch->add_option("--label", launch_options.labels, "extra KEY=VALUE label (repeatable)");

  bool events_json = false;
  auto* events = app.add_subcommand(
      "events", "Follow what happens: kernels' lifecycle, pools, scaling decisions, drains, checkpoints");
  events->add_flag("--json", events_json, "one JSON object per line");

  bool checkpoints_json = false;
  auto* checkpoints = app.add_subcommand("checkpoints", "Kernel checkpoints saved before drains");
  checkpoints->add_flag("--json", checkpoints_json);

  SpawnOptions restore_options;
  bool restore_json = false;
  auto* restore = app.add_subcommand(
      "restore", "A new kernel of a checkpoint's template, with the checkpoint's user state loaded");
  restore->add_option("checkpoint", restore_options.restore, "a checkpoint id (see `checkpoints`)")
      ->required();
  restore->add_option("--name", restore_options.name, "the new kernel's id (default kernel-<8 hex digits>)");
  restore->add_option("--owner", restore_options.owner, "who it is for (default: you)");
  restore->add_option("--label", restore_options.labels, "extra KEY=VALUE label (repeatable)");
  restore->add_flag("--json", restore_json);

  std::string autoscale_action;
  std::size_t autoscale_limit = 20;
  bool autoscale_json = false;
  auto* autoscale =
      app.add_subcommand("autoscale",
                         "The autoscaler serve runs for compose services with x-fleet autoscaling: status, "
                         "history, start, stop");
  autoscale->add_option("action", autoscale_action, "status, history, start or stop")
      ->required()
      ->check(CLI::IsMember({"status", "history", "start", "stop"}));
  autoscale->add_option("--limit", autoscale_limit, "history: at most this many decisions (default 20)");
  autoscale->add_flag("--json", autoscale_json);

  try {
    check_command_word(argc, argv, app);
    app.parse(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "llmspell-fleet: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help or the parse error
    return code == 0 ? kExitOk : kExitBadInput;
  }

  try {
    if (file_option->count() == 0) g.compose_file = default_compose_file(g.compose_file);
  } catch (const UsageError& e) {
    std::cerr << "llmspell-fleet: " << e.what() << "\n";
    return kExitBadInput;
  }

  try {
    Progress progress(stderr);
    g.progress = progress.sink();
    if (*top) g.stats = Fleet::stats_memory();  // each refresh then samples one stats period
    Fleet fleet(g);
    if (*version) return cmd_version(fleet, version_json);
    if (*ping) return cmd_ping(fleet);
    if (*config) return cmd_config(fleet, config_options, config_json);
    if (*build) return cmd_build(fleet, build_options);
    if (*up) {
      up_options.wait_timeout = std::chrono::seconds(up_timeout);
      return cmd_up(fleet, up_options, up_scale);
    }
    if (*down) return cmd_down(fleet, down_options);
    if (*scale) return cmd_scale(fleet, scale_args, scale_wait);
    if (*ps) return cmd_ps(fleet, ps_all, ps_json);
    if (*nodes) return cmd_nodes(fleet, nodes_json);
    if (*drain_node) return cmd_drain_node(fleet, drain_node_name, drain_node_timeout, drain_node_json);
    if (*activate_node) return cmd_activate_node(fleet, activate_node_name);
    if (*clean) return cmd_clean(fleet);
    if (*logs) return cmd_logs(fleet, logs_options);
    if (*health) return cmd_health(fleet, health_names, health_json);
    if (*shell) return cmd_shell(fleet, shell->remaining(), shell_index);
    if (*spawn) return cmd_spawn(fleet, spawn_options, spawn_json);
    if (*list) return cmd_list(fleet, list_options, list_json);
    if (*stop) {
      if (stop_checkpoint || stop_no_checkpoint) stop_options.checkpoint = stop_checkpoint;
      return cmd_stop(fleet, stop_options, stop_json);
    }
    if (*stop_all) return cmd_stop_all(fleet, stop_all_options, stop_all_json);
    if (*cleanup) return cmd_cleanup(fleet, cleanup_scope, cleanup_json);
    if (*find) return cmd_find(fleet, find_options, find_json);
    if (*metrics) return cmd_metrics(fleet, metrics_json);
    if (*top) return cmd_top(fleet, top_args);
    if (*kernelspec_install) return cmd_kernelspec_install(fleet, kernelspec_options, kernelspec_json);
    if (*kernel_launch) return cmd_kernel_launch(fleet, launch_options);
    if (*autoscale) return cmd_autoscale(fleet, autoscale_action, autoscale_limit, autoscale_json);
    if (*events) return cmd_events(fleet, events_json);
    if (*checkpoints) return cmd_checkpoints(fleet, checkpoints_json);
    if (*restore) return cmd_restore(fleet, restore_options, restore_json);
    if (*serve) {
      serve_options.fleet = g;
      serve_options.fleet.progress = nullptr;
      return cmd_serve(serve_options, serve_token_file);
    }
    return kExitBadInput;
  } catch (...) {
    ExitStatus status = exit_status_for_current_exception();
    std::cerr << "llmspell-fleet: " << status.message << "\n";
    return status.code;
  }
}

}  // namespace fleet::cli
