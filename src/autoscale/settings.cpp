// The autoscaling settings of a compose service's x-fleet mapping: read, checked, written back.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "autoscale/autoscale.hpp"

namespace fleet::autoscale {

namespace {

const char* const kKnown =
    "autoscaling, min_replicas, max_replicas, target_cpu_utilization, target_memory_utilization, "
    "target_pending_requests, scale_up_stabilization_seconds, scale_down_stabilization_seconds, "
    "autoscaling_interval_seconds";

// The x-fleet keys the rest of the fleet reads.
bool fleet_owned(const std::string& key) {
  return key == "kernel" || key == "allow_unsafe" || key == "template" || key == "warm_pool" ||
         key == "graceful_drain" || key == "idle_cull_seconds";
}

// A whole number, also when written as 2.0.
int whole(const nlohmann::json& v, const std::string& key, long long low, const std::string& what) {
  const std::string msg = key + ": must be " + what;
  if (v.is_number_integer()) {
    const long long n = v.get<long long>();
    if (n < low || n > std::numeric_limits<int>::max()) throw std::invalid_argument(msg);
    return static_cast<int>(n);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(low) ||
        d > std::numeric_limits<int>::max())
      throw std::invalid_argument(msg);
    return static_cast<int>(d);
  }
  throw std::invalid_argument(msg + " (got " + std::string(v.type_name()) + ")");
}

double percent(const nlohmann::json& v, const std::string& key) {
  const std::string msg = key + ": must be a percentage above 0 and at most 100";
  if (!v.is_number()) throw std::invalid_argument(msg + " (got " + std::string(v.type_name()) + ")");
  const double d = v.get<double>();
  if (!(d > 0 && d <= 100)) throw std::invalid_argument(msg);
  return d;
}

}  // namespace

Settings Settings::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw std::invalid_argument(where + ": must be a mapping of " + kKnown);
  Settings s;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const std::string key = where + "." + name;
    const auto& v = it.value();
    if (name == "autoscaling") {
      if (!v.is_boolean()) throw std::invalid_argument(key + ": must be true or false");
      s.enabled = v.get<bool>();
    } else if (name == "min_replicas") {
      s.min_replicas = whole(v, key, 0, "a whole number of replicas, 0 or more");
    } else if (name == "max_replicas") {
      s.max_replicas = whole(v, key, 1, "a whole number of replicas, 1 or more");
    } else if (name == "target_cpu_utilization") {
      s.target_cpu_utilization = percent(v, key);
    } else if (name == "target_memory_utilization") {
      if (v.is_null())
        s.target_memory_utilization.reset();
      else
        s.target_memory_utilization = percent(v, key);
    } else if (name == "target_pending_requests") {
      if (v.is_null()) {
        s.target_pending_requests.reset();
      } else {
        const std::string msg = key + ": must be a number of pending requests per replica above 0";
        if (!v.is_number()) throw std::invalid_argument(msg + " (got " + std::string(v.type_name()) + ")");
        if (!(v.get<double>() > 0) || !std::isfinite(v.get<double>())) throw std::invalid_argument(msg);
        s.target_pending_requests = v.get<double>();
      }
    } else if (name == "scale_up_stabilization_seconds") {
      s.scale_up_stabilization_seconds = whole(v, key, 0, "a whole number of seconds, 0 or more");
    } else if (name == "scale_down_stabilization_seconds") {
      s.scale_down_stabilization_seconds = whole(v, key, 0, "a whole number of seconds, 0 or more");
    } else if (name == "autoscaling_interval_seconds") {
      s.autoscaling_interval_seconds = whole(v, key, 1, "a whole number of seconds, 1 or more");
    } else if (!fleet_owned(name)) {
      throw std::invalid_argument(key + ": unknown key (known: " + kKnown + ")");
    }
  }
  if (s.min_replicas > s.max_replicas)
    throw std::invalid_argument(where + ".min_replicas: " + std::to_string(s.min_replicas) +
                                " is more than max_replicas " + std::to_string(s.max_replicas));
  return s;
}

nlohmann::json Settings::to_json() const {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"autoscaling", enabled},
          {"min_replicas", min_replicas},
          {"max_replicas", max_replicas},
          {"target_cpu_utilization", target_cpu_utilization},
          {"target_memory_utilization", opt(target_memory_utilization)},
          {"target_pending_requests", opt(target_pending_requests)},
          {"scale_up_stabilization_seconds", scale_up_stabilization_seconds},
          {"scale_down_stabilization_seconds", scale_down_stabilization_seconds},
          {"autoscaling_interval_seconds", autoscaling_interval_seconds}};
}

}  // namespace fleet::autoscale
