#include "kernel/connection_plan.hpp"

namespace fleet::kernel {
namespace {

bool names_every_port(const ConnectionInfo& c) {
  return c.shell_port && c.iopub_port && c.stdin_port && c.control_port && c.hb_port;
}

}  // namespace

ConnectionPlan plan_connection(const ConnectionFlags& flags, const std::optional<ConnectionInfo>& existing,
                               std::string (*random_key)()) {
  bool ports_given = flags.port || flags.shell_port || flags.iopub_port || flags.stdin_port ||
                     flags.control_port || flags.hb_port;
  if (!ports_given && existing && names_every_port(*existing)) return {*existing, existing->ip, false};

  ConnectionPlan plan;
  auto pick = [&](int explicit_port, int offset) {
    return explicit_port ? explicit_port : (flags.port ? flags.port + offset : 0);
  };
  ConnectionInfo& c = plan.connection;
  c.shell_port = pick(flags.shell_port, 0);
  c.iopub_port = pick(flags.iopub_port, 1);
  c.stdin_port = pick(flags.stdin_port, 2);
  c.control_port = pick(flags.control_port, 3);
  c.hb_port = pick(flags.hb_port, 4);
  c.ip = flags.ip == "0.0.0.0" ? "127.0.0.1" : flags.ip;
  plan.bind_ip = flags.ip;
  if (!flags.key.empty())
    c.key = flags.key;
  else if (existing && !existing->key.empty())
    c.key = existing->key;
  else
    c.key = random_key();
  return plan;
}

}  // namespace fleet::kernel
