// The dashboard at `/`: one page that shows the fleet live through the API's own endpoints
// (polling what has no events, GET /events for the rest). Its HTML, script and style are embedded
// at build time from src/server/dashboard/; Chart.js is Debian's libjs-chart.js, read from disk
// (FLEET_CHART_JS at build time, LLMSPELL_FLEET_CHART_JS at run time). The page is served under the
// API's rules: the server admits the request before it gets here.
#pragma once

#include <string>
#include <vector>

#include "server/http.hpp"

namespace fleet::server {

// `/` and `/dashboard/...` are the dashboard's.
bool is_dashboard(const std::vector<std::string>& segments);

// GET only (else 405); 404 for a file it does not have; 500 naming the path when Chart.js is not
// where it is looked for.
Reply dashboard(const Request& request);

}  // namespace fleet::server
