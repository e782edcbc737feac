// Draining kernels: stop handing out, wait for idle, checkpoint (drain.hpp).
#include "fleet/drain.hpp"

#include <cstdio>
#include <thread>

#include "fleet/checkpoints.hpp"
#include "fleet/errors.hpp"
#include "fleet/event_log.hpp"
#include "fleet/labels.hpp"
#include "fleet/load.hpp"
#include "util/file_lock.hpp"
#include "util/parallel.hpp"

namespace fleet {
namespace {

constexpr auto kIdlePoll = std::chrono::milliseconds(250);

// A marker file per container being drained, host-wide like the other fleet locks: any fleet process
// (serve, a `find` on the command line) sees that the kernel is on its way out.
std::filesystem::path mark_file(const std::string& container_id) {
  return host_lock("draining-" + container_id.substr(0, 12));
}

}  // namespace

bool draining(const std::string& container_id) {
  std::error_code ec;
  const auto mark = mark_file(container_id);
  if (!std::filesystem::exists(mark, ec)) return false;
  // Held by the process draining it; a marker nobody holds was left by one that died.
  return util::FileLock::try_acquire(mark, 0644) == nullptr;
}

Drain::Drain(Context& ctx, ObservedContainer kernel, DrainSettings settings, std::string cause)
    : ctx_(ctx),
      kernel_(std::move(kernel)),
      settings_(settings),
      cause_(std::move(cause)),
      mark_(mark_file(kernel_.id)),
      mark_lock_(util::FileLock::try_acquire(mark_, 0644)) {}

Drain::~Drain() {
  std::error_code ec;
  if (mark_lock_) std::filesystem::remove(mark_, ec);
}

void Drain::emit(const std::string& action, const std::string& message, nlohmann::json details) {
  FleetEvent e{.type = "drain",
               .action = action,
               .container = kernel_.name,
               .container_id = kernel_.id,
               .kernel_id = kernel_.kernel_id,
               .origin = kernel_.spawned() ? "spawned" : "compose",
               .project = kernel_.project,
               .service = kernel_.service,
               .owner = kernel_.owner(),
               .message = message,
               .details = std::move(details)};
  append_event(ctx_.home, e);
}

DrainOutcome Drain::run() {
  DrainOutcome out{.kernel_id = kernel_.kernel_id, .container = kernel_.name};
  // A paused pool member never served anyone: nothing to wait for or keep.
  if (kernel_.state != "running" || kernel_.pool_ready() || kernel_.pool_filling()) return out;
  emit("started", cause_,
       {{"timeout_seconds", settings_.timeout_seconds},
        {"checkpoint_before_drain", settings_.checkpoint_before_drain}});
  const auto started = ctx_.time().now();
  const auto deadline = started + std::chrono::seconds(settings_.timeout_seconds);
  KernelLoad load;
  for (;;) {
    load = sample_load(ctx_.client, kernel_, false);
    // A kernel whose status cannot be read (gone, or not a kernel that reports it) has nothing to wait for.
    if (!load.execution_state || load.idle() || load.execution_state == "stopped") break;
    if (ctx_.time().now() >= deadline) {
      out.timed_out = true;
      break;
    }
    ctx_.time().sleep_for(kIdlePoll);
  }
  out.waited_seconds = std::chrono::duration<double>(ctx_.time().now() - started).count();
  if (out.timed_out) {
    std::string what = std::string(kDrainTimeoutCode) + ": drain timeout exceeded: " + kernel_.kernel_id +
                       " still " + load.execution_state.value_or("busy") + " (" +
                       std::to_string(load.pending.value_or(0)) + " pending) after " +
                       std::to_string(settings_.timeout_seconds) + " s; stopping it anyway";
    ctx_.warn(kernel_.kernel_id, what);
    emit("timeout", what, {{"code", kDrainTimeoutCode}, {"waited_seconds", out.waited_seconds}});
  } else {
    char waited[32];
    std::snprintf(waited, sizeof waited, "%.1f", out.waited_seconds);
    emit("idle", std::string("idle after ") + waited + " s", {{"waited_seconds", out.waited_seconds}});
  }
  if (settings_.checkpoint_before_drain) {
    try {
      out.checkpoint = save_checkpoint(ctx_, kernel_);
      emit("checkpoint", "saved checkpoint " + out.checkpoint, {{"checkpoint", out.checkpoint}});
    } catch (const std::exception& e) {
      out.error = std::string("checkpoint failed: ") + e.what();
      ctx_.warn(kernel_.kernel_id, out.error);
      emit("checkpoint_failed", out.error);
    }
  }
  return out;
}

DrainSettings drain_settings_for(Context& ctx, const ObservedContainer& kernel,
                                 const compose::Project* project) {
  if (kernel.spawned()) {
    const std::string identity = kernel.label(labels::kTemplate);
    for (const auto& s : ctx.settings.templates)
      if (template_identity(template_of(s, ctx.settings.kernels), ctx.home) == identity)
        return s.graceful_drain;
    return {};
  }
  if (project) {
    auto it = project->services.find(kernel.service);
    if (it != project->services.end()) {
      auto x = it->second.extensions.find("x-fleet");
      if (x != it->second.extensions.end() && x->is_object() && x->contains("graceful_drain"))
        return DrainSettings::from_json((*x)["graceful_drain"],
                                        "services." + kernel.service + ".x-fleet.graceful_drain");
    }
  }
  return {};
}

std::vector<std::unique_ptr<Drain>> drain_all(Context& ctx, const std::vector<ObservedContainer>& kernels,
                                              const std::vector<DrainSettings>& settings,
                                              const std::string& cause, std::vector<DrainOutcome>& outcomes) {
  std::vector<std::unique_ptr<Drain>> drains;
  for (std::size_t i = 0; i < kernels.size(); ++i)
    drains.push_back(std::make_unique<Drain>(ctx, kernels[i], settings.at(i), cause));
  outcomes.assign(kernels.size(), {});
  std::vector<std::function<void()>> tasks;
  for (std::size_t i = 0; i < drains.size(); ++i) tasks.push_back([&, i] { outcomes[i] = drains[i]->run(); });
  util::run_parallel(
      tasks, static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(tasks.size(), 16))));
  return drains;
}

}  // namespace fleet
