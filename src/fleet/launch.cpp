// kernel-launch: a kernel for a Jupyter client that starts kernels itself (jupyter_client's
// KernelManager running a kernelspec's argv). The kernel is a spawned kernel like any other (the
// same template, limits, labels and security), published on the ports the client chose, with its
// key; the launcher stays in the foreground while the container runs, so the client's process
// handling (interrupt, terminate, restart) reaches the kernel.
#include <regex>

#include "engine/errors.hpp"
#include "fleet/errors.hpp"
#include "fleet/executor.hpp"
#include "fleet/labels.hpp"
#include "fleet/operations.hpp"
#include "util/sha256.hpp"

namespace fleet {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(50);
constexpr auto kInspectInterval = std::chrono::milliseconds(250);
constexpr int kStopTimeoutSeconds = 10;

// Stopped (when running) and removed with its connection file, through the plan every retirement takes.
void retire(Context& ctx, const std::string& container_id, const std::string& cause) {
  for (const auto& k : observe_kernels(ctx.client).containers)
    if (k.id == container_id) {
      execute(ctx, templates_project(ctx.home, {}), plan_retire({k}, cause, kStopTimeoutSeconds));
      return;
    }
}

// A kernel a launcher of the same connection file left (killed outright, then restarted by its
// client) is replaced; any other kernel of that id is a conflict.
void replace_leftover(Context& ctx, const std::string& kernel_id, const FixedConnection& fixed) {
  for (const auto& k : observe_kernels(ctx.client).containers) {
    if (k.kernel_id != kernel_id && k.name != kernel_id) continue;
    if (k.label(labels::kLauncher) != fixed.connection_file)
      throw Conflict("a kernel named " + kernel_id + " exists (" + k.kernel_id + ", " + k.state +
                     ") that no launcher of " + fixed.connection_file + " made");
    execute(ctx, templates_project(ctx.home, {}),
            plan_retire({k}, "kernel-launch: left by an earlier launcher of " + fixed.connection_file, 0));
  }
}

}  // namespace

int launch(Context& ctx, const Template& t, const LaunchOptions& o, const FixedConnection& fixed,
           const std::map<std::string, std::string>& extra_labels) {
  const std::string kernel_id = launched_kernel_id(fixed.connection_file);
  replace_leftover(ctx, kernel_id, fixed);
  KernelRow row =
      spawn(ctx, t, {.kernel_id = kernel_id, .owner = o.owner, .labels = extra_labels, .fixed = fixed});
  const std::string id = row.container_id;
  if (o.started) o.started(row);

  int interrupts_sent = o.interrupts ? o.interrupts->load() : 0;
  auto next_inspect = ctx.time().now();
  for (;;) {
    if (o.stop && *o.stop) {
      retire(ctx, id, "kernel-launch: stopped by its client");
      return 0;
    }
    for (; o.interrupts && interrupts_sent < *o.interrupts; ++interrupts_sent) {
      try {
        ctx.client.kill_container(id, "SIGINT");
      } catch (const engine::EngineError&) {
        // Not running any more: the inspect below says how it ended.
      }
    }
    if (ctx.time().now() >= next_inspect) {
      engine::ContainerInspect in;
      try {
        in = ctx.client.inspect_container(id);
      } catch (const engine::NotFoundError&) {
        return 1;  // removed from outside (stop-all, down): its exit code went with it
      }
      if (!in.state.running) {
        const int code = in.state.oom_killed && in.state.exit_code == 0 ? 137 : in.state.exit_code;
        retire(ctx, id, "kernel-launch: the kernel exited (" + std::to_string(code) + ")");
        return code;
      }
      next_inspect = ctx.time().now() + kInspectInterval;
    }
    ctx.time().sleep_for(kPollInterval);
  }
}

std::string launched_kernel_id(const std::string& connection_file) {
  // Named after the connection file (Jupyter's kernel-<uuid>.json): the kernel is found by the
  // name its client knows, and a restarted launcher finds what an earlier one left.
  const std::string stem = std::filesystem::path(connection_file).stem().string();
  static const std::regex valid("[a-zA-Z0-9_.-]{1,55}");
  return "jupyter-" +
         (std::regex_match(stem, valid) ? stem : util::sha256_hex(connection_file).substr(0, 12));
}

}  // namespace fleet
