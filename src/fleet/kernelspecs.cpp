// Jupyter kernelspecs, one per language and kernel config: llmspell-lua-openai is Lua with
// configs/openai.toml. The gateway lists them; `kernelspec install` writes them as
// kernels/<name>/kernel.json that run fleet kernels through `kernel-launch` (Jupyter's own launcher
// substitutes {connection_file} in argv).
#include <algorithm>
#include <cstdlib>

#include "fleet/errors.hpp"
#include "fleet/operations.hpp"
#include "util/atomic_file.hpp"

namespace fleet {
namespace {

const std::vector<std::string> kLanguages = {"lua", "javascript"};

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

// Jupyter's data folders (jupyter_core.paths): the user's, a prefix's, the Python environment's.
std::filesystem::path kernels_dir(const KernelspecOptions& o) {
  if (!o.prefix.empty()) return std::filesystem::absolute(o.prefix) / "share/jupyter/kernels";
  if (o.sys_prefix)
    return std::filesystem::path(env_or("VIRTUAL_ENV", env_or("CONDA_PREFIX", "/usr"))) /
           "share/jupyter/kernels";
  if (const char* data = std::getenv("JUPYTER_DATA_DIR"); data && *data)
    return std::filesystem::path(data) / "kernels";
  return std::filesystem::path(env_or("XDG_DATA_HOME", env_or("HOME", "/") + "/.local/share")) /
         "jupyter/kernels";
}

}  // namespace

std::vector<KernelSpecRow> kernelspecs(Context& ctx) {
  std::vector<KernelSpecRow> out;
  for (const std::string& language : kLanguages)
    for (const auto& config : kernel_configs(ctx.home)) {
      const std::string stem = std::filesystem::path(config).stem().string();
      out.push_back(
          {.name = "llmspell-" + template_name(language, config),
           .display_name = std::string("LLMSpell ") +
                           (language == std::string("lua") ? "Lua" : "JavaScript") + " (" + stem + ")",
           .language = language,
           .config = config,
           .is_default = language == ctx.settings.kernels.language && config == ctx.settings.kernels.config});
    }
  std::stable_partition(out.begin(), out.end(), [](const KernelSpecRow& k) { return k.is_default; });
  return out;
}

std::vector<InstalledKernelspec> install_kernelspecs(Context& ctx, const KernelspecOptions& o) {
  if (!o.prefix.empty() && o.sys_prefix) throw InvalidInput("--prefix and --sys-prefix are one or the other");
  if (!std::filesystem::path(o.launcher).is_absolute())
    throw InvalidInput("the launcher path " + o.launcher + " is not absolute");
  std::vector<KernelSpecRow> chosen = kernelspecs(ctx);
  std::erase_if(chosen, [&](const KernelSpecRow& k) {
    return (!o.language.empty() && o.language != k.language) || (!o.config.empty() && o.config != k.config);
  });
  if (chosen.empty()) {
    // The template check names what is wrong (language or config) with the valid choices.
    check_template({.language = o.language.empty() ? kLanguages.front() : o.language,
                    .config = o.config.empty() ? "default.toml" : o.config,
                    .image = "-",
                    .memory = 1 << 30,
                    .cpus = 1},
                   ctx.home);
    throw InvalidInput("no kernel configs in " + ctx.home.configs_dir.string());
  }
  if (!o.name.empty()) {
    if (chosen.size() != 1)
      throw InvalidInput("--name names one kernelspec: give --language and --config too");
    check_plain_name("kernelspec name", o.name);
  }
  for (const auto& l : o.labels)
    if (l.find('=') == std::string::npos || l.front() == '=')
      throw InvalidInput("--label \"" + l + "\" is not KEY=VALUE");

  const std::filesystem::path dir = kernels_dir(o);
  std::vector<InstalledKernelspec> rows;
  for (const auto& [spec_name, display_name, language, config, is_default] : chosen) {
    nlohmann::json argv = {o.launcher,   "kernel-launch", "--connection-file", "{connection_file}",
                           "--language", language,        "--config",          config};
    for (const auto& l : o.labels) argv.insert(argv.end(), {"--label", l});
    InstalledKernelspec row{.name = o.name.empty() ? spec_name : o.name};
    row.spec = {
        {"argv", argv},
        {"display_name", display_name},
        {"language", language},
        // The launcher passes SIGINT on to the kernel in its container.
        {"interrupt_mode", "signal"},
        // The configs this spec was made for, wherever the launcher is started from.
        {"env", {{"LLMSPELL_FLEET_CONFIGS", std::filesystem::absolute(ctx.home.configs_dir).string()}}},
        {"metadata",
         {{"debugger", false},
          {"llmspell", {{"language", language}, {"config", config}, {"launcher", o.launcher}}}}}};
    const auto file = dir / row.name / "kernel.json";
    std::filesystem::create_directories(file.parent_path());
    util::write_file_atomically(file, row.spec.dump(2) + "\n", 0644);
    row.path = file.string();
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace fleet
