#include "fleet/templates.hpp"

#include <pwd.h>
#include <unistd.h>

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fleet/container_spec.hpp"
#include "fleet/errors.hpp"
#include "util/sha256.hpp"

namespace fleet {
namespace {

constexpr const char* kLanguages[] = {"lua", "javascript"};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out.empty() ? "none" : out;
}

}  // namespace

Template template_of(const TemplateSettings& s, const KernelDefaults& d) {
  return {.language = s.language,
          .config = s.config,
          .image = s.image.empty() ? d.image : s.image,
          .memory = s.memory.value_or(d.memory),
          .cpus = s.cpus.value_or(d.cpus),
          .pids_limit = d.pids_limit};
}

std::string template_name(const std::string& language, const std::string& config) {
  return language + "-" + std::filesystem::path(config).stem().string();
}

std::string template_name(const Template& t) {
  return template_name(t.language, t.config);
}

std::vector<std::string> kernel_configs(const FleetHome& home) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(home.configs_dir, ec)) {
    auto name = entry.path().filename().string();
    if (entry.is_regular_file() && entry.path().extension() == ".toml" && name != kSettingsFile)
      out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_template(const Template& t, const FleetHome& home) {
  if (std::find(std::begin(kLanguages), std::end(kLanguages), t.language) == std::end(kLanguages))
    throw InvalidInput("language \"" + t.language + "\" is not supported (lua or javascript)");
  check_plain_name("config", t.config);
  auto configs = kernel_configs(home);
  if (std::find(configs.begin(), configs.end(), t.config) == configs.end())
    throw InvalidInput("config " + t.config + " not found in " + home.configs_dir.string() +
                       " (valid: " + joined(configs) + ")");
  // Checked here rather than by the kernel inside its container, where the error would name a path
  // the user never wrote.
  try {
    (void)toml::parse_file((home.configs_dir / t.config).string());
  } catch (const toml::parse_error& e) {
    throw InvalidInput((home.configs_dir / t.config).string() + ":" + std::to_string(e.source().begin.line) +
                       ": not a valid kernel config: " + std::string(e.description()));
  }
  if (t.memory < 6 * 1024 * 1024) throw InvalidInput("memory must be at least 6 MiB");
  if (!(t.cpus > 0)) throw InvalidInput("cpus must be more than 0");
  if (t.image.empty()) throw InvalidInput("image must not be empty");
}

std::string template_identity(const Template& t, const FleetHome& home) {
  std::ifstream in(home.configs_dir / t.config, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  nlohmann::json j = {
      {"language", t.language},    {"config", t.config}, {"config_sha256", util::sha256_hex(content.str())},
      {"image", t.image},          {"memory", t.memory}, {"cpus", t.cpus},
      {"pids_limit", t.pids_limit}};
  return util::sha256_hex(j.dump());
}

compose::Service template_service(const Template& t, const FleetHome& home, const std::string& publish_ip,
                                  const FixedConnection* fixed) {
  compose::Service s;
  s.name = template_name(t);
  s.image = t.image;
  s.command =
      std::vector<std::string>{"start", "--port", std::to_string(kKernelShellPort), "--language", t.language};
  s.user = "1000:1000";
  s.mem_limit = t.memory;
  s.cpus = t.cpus;
  s.pids_limit = t.pids_limit;
  s.cap_drop = {"ALL"};
  s.security_opt = {"no-new-privileges:true"};
  s.restart = "no";  // a spawned kernel that dies stays dead, and says why (list)
  s.stop_grace_period_ns = 30'000'000'000;
  s.healthcheck = kernel_healthcheck();
  for (int i = 0; i < kKernelPortCount; ++i)
    s.ports.push_back({.host_ip = fixed ? fixed->ip : publish_ip,
                       .host_port = fixed ? fixed->ports[i] : 0,
                       .container_port = kKernelShellPort + i});
  // In the environment rather than the command: the host's process list shows commands to everyone.
  if (fixed) s.environment["LLMSPELL_KERNEL_KEY"] = fixed->key;
  s.volumes.push_back({.type = "bind",
                       .source = std::filesystem::absolute(home.configs_dir / t.config).string(),
                       .target = kKernelConfigPath,
                       .read_only = true});
  s.extensions["x-fleet"] = {{"kernel", true}, {"template", template_identity(t, home)}};
  return s;
}

compose::Project templates_project(const FleetHome& home, std::vector<compose::Service> services) {
  compose::Project p;
  p.name = "llmspell-kernels";
  p.working_dir = home.root;
  p.source_name = "kernel templates";
  for (auto& s : services) p.services.emplace(s.name, std::move(s));
  return p;
}

std::string current_user() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return pw->pw_name;
  if (const char* user = std::getenv("USER"); user && *user) return user;
  return std::to_string(::geteuid());
}

}  // namespace fleet
