#include "server/prometheus.hpp"

#include <cstdio>

namespace fleet::server {
namespace {

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return buf;
}

void family(std::string& out, const char* name, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
}

}  // namespace

std::string prometheus_text(const MetricsReport& r) {
  std::string out;
  family(out, "llmspell_fleet_kernels", "Kernels of the fleet by engine state.");
  for (const auto& [state, count] : r.kernels_by_state)
    out += "llmspell_fleet_kernels{state=\"" + escape(state) + "\"} " + std::to_string(count) + "\n";

  family(out, "llmspell_kernel_cpu_ratio",
         "CPU the kernel used over the engine's last sample, in CPUs (1 is one whole CPU).");
  for (const auto& k : r.kernels)
    out += "llmspell_kernel_cpu_ratio{kernel_id=\"" + escape(k.kernel_id) + "\"} " +
           number(k.cpu_percent / 100) + "\n";
  family(out, "llmspell_kernel_memory_usage_bytes", "Memory the kernel uses, less inactive page cache.");
  for (const auto& k : r.kernels)
    out += "llmspell_kernel_memory_usage_bytes{kernel_id=\"" + escape(k.kernel_id) + "\"} " +
           std::to_string(k.memory_used) + "\n";
  family(out, "llmspell_kernel_memory_limit_bytes", "The kernel's memory limit.");
  for (const auto& k : r.kernels)
    out += "llmspell_kernel_memory_limit_bytes{kernel_id=\"" + escape(k.kernel_id) + "\"} " +
           std::to_string(k.memory_limit) + "\n";

  family(out, "llmspell_fleet_cpu_ratio", "CPU all sampled kernels used, in CPUs.");
  out += "llmspell_fleet_cpu_ratio " + number(r.total_cpu_percent / 100) + "\n";
  family(out, "llmspell_fleet_memory_usage_bytes", "Memory all sampled kernels use.");
  out += "llmspell_fleet_memory_usage_bytes " + std::to_string(r.total_memory_used) + "\n";
  family(out, "llmspell_fleet_memory_limit_bytes", "The sum of the sampled kernels' memory limits.");
  out += "llmspell_fleet_memory_limit_bytes " + std::to_string(r.total_memory_limit) + "\n";
  family(out, "llmspell_fleet_sample_duration_seconds", "How long sampling every kernel took.");
  out += "llmspell_fleet_sample_duration_seconds " + number(r.sample_seconds) + "\n";
  return out;
}

}  // namespace fleet::server
