// The fleet's metrics in the Prometheus text exposition format (version 0.0.4): base units (bytes,
// ratios), gauges with HELP and TYPE, label values escaped.
#pragma once

#include <string>

#include "fleet/rows.hpp"

namespace fleet::server {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string prometheus_text(const MetricsReport& report);

}  // namespace fleet::server
