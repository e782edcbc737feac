#include "server/dashboard.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include "server/dashboard_files.hpp"
#include "util/base64.hpp"
#include "util/sha256.hpp"

namespace fleet::server {
namespace {

constexpr std::string_view kChartName = "chart.min.js";

std::string_view embedded(std::string_view name) {
  for (const auto& f : dashboard_files::kFiles)
    if (name == f.name) return {reinterpret_cast<const char*>(f.data), f.size};
  return {};
}

std::string content_type_of(std::string_view name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  return "text/javascript; charset=utf-8";
}

// The page loads and runs only what the fleet serves: its files, and the one inline script of
// index.html (the loader that passes ?token= on), allowed by its hash.
const std::string& content_security_policy() {
  static const std::string policy = [] {
    std::string_view page = embedded("index.html");
    const std::string_view open = "<script>";
    auto begin = page.find(open) + open.size();
    std::string hex = util::sha256_hex(page.substr(begin, page.find("</script>", begin) - begin));
    std::string digest;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
      digest += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return "default-src 'none'; script-src 'self' 'sha256-" + util::base64_encode(digest) +
           "'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'";
  }();
  return policy;
}

std::string chart_js_path() {
  const char* path = std::getenv("LLMSPELL_FLEET_CHART_JS");
  return path && *path ? path : FLEET_CHART_JS;
}

}  // namespace

bool is_dashboard(const std::vector<std::string>& segments) {
  return segments.empty() || segments[0] == "dashboard";
}

Reply dashboard(const Request& r) {
  if (r.method != "GET")
    throw HttpError(405, "method_not_allowed", r.method + " is not allowed here", {"GET"});
  const std::string name = r.segments.empty() ? "index.html" : r.segments.size() == 2 ? r.segments[1] : "";
  Reply reply{200, content_type_of(name), "", {}};
  if (name == kChartName) {
    const std::string path = chart_js_path();
    std::ifstream in(path, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in || body.str().empty())
      throw HttpError(500, "operation_failed",
                      "the dashboard's Chart.js is not at " + path +
                          " (Debian's libjs-chart.js; LLMSPELL_FLEET_CHART_JS names another file)");
    reply.body = body.str();
  } else {
    std::string_view file = embedded(name);
    if (file.empty())
      throw HttpError(404, "not_found", "no such resource: " + r.target.substr(0, r.target.find('?')));
    reply.body = file;
  }
  // The page's URL may carry the token: nothing of it is kept or passed on.
  reply.headers = {{"Cache-Control", "no-store"},
                   {"Referrer-Policy", "no-referrer"},
                   {"X-Content-Type-Options", "nosniff"}};
  if (name == "index.html") reply.headers.emplace_back("Content-Security-Policy", content_security_policy());
  return reply;
}

}  // namespace fleet::server
