#include "server/http.hpp"

#include <cctype>
#include <cmath>

namespace fleet::server {
namespace {

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(text[i + 2])))
        throw HttpError(400, "bad_request", "malformed percent escape in the URL");
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string Request::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

void parse_target(Request& r) {
  std::string_view target = r.target;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (path.empty() || path[0] != '/') throw HttpError(400, "bad_request", "the request target is not a path");
  std::size_t at = 1;
  while (at <= path.size()) {
    auto slash = path.find('/', at);
    std::string_view part =
        path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
    if (!part.empty()) r.segments.push_back(percent_decode(part, false));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  if (q == std::string_view::npos) return;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (!pair.empty())
      r.query[percent_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
}

int status_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadInput:
      return 422;
    case ErrorKind::NotFound:
      return 404;
    case ErrorKind::Conflict:
      return 409;
    case ErrorKind::EngineUnavailable:
      return 503;
    case ErrorKind::OperationFailed:
      return 500;
  }
  return 500;
}

const char* error_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadInput:
      return "unprocessable";
    case ErrorKind::NotFound:
      return "not_found";
    case ErrorKind::Conflict:
      return "conflict";
    case ErrorKind::EngineUnavailable:
      return "engine_unavailable";
    case ErrorKind::OperationFailed:
      return "operation_failed";
  }
  return "operation_failed";
}

Reply json_reply(int status, const nlohmann::json& body) {
  return {status, "application/json", body.dump() + "\n", {}};
}

Reply error_reply(const HttpError& e) {
  Reply r = json_reply(e.status, {{"error", e.error}, {"message", e.what()}});
  if (!e.allow.empty()) {
    std::string allow;
    for (const auto& m : e.allow) allow += (allow.empty() ? "" : ", ") + m;
    r.headers.emplace_back("Allow", allow);
  }
  if (e.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"llmspell-fleet\"");
  return r;
}

nlohmann::json json_body(const Request& r, int max_depth, const std::vector<std::string>& allowed) {
  std::string type = r.header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type != "application/json")
    throw HttpError(415, "unsupported_media_type",
                    "the body must be application/json" + (type.empty() ? std::string() : ", not " + type));
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(r.body, [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      if (depth > max_depth)
        throw HttpError(400, "bad_request",
                        "the JSON body nests deeper than " + std::to_string(max_depth) + " levels");
      return true;
    });
  } catch (const nlohmann::json::exception& e) {
    throw HttpError(400, "bad_request", std::string("the body is not valid JSON: ") + e.what());
  }
  if (!body.is_object()) throw HttpError(422, "unprocessable", "the body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw HttpError(422, "unprocessable", "unknown field \"" + it.key() + "\" (known: " + list + ")");
    }
  return body;
}

std::string text_field(const nlohmann::json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null()) return "";
  if (!body[key].is_string())
    throw HttpError(422, "unprocessable", std::string("\"") + key + "\" must be a string");
  return body[key].get<std::string>();
}

std::optional<double> number_field(const nlohmann::json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null()) return std::nullopt;
  if (!body[key].is_number())
    throw HttpError(422, "unprocessable", std::string("\"") + key + "\" must be a number");
  double value = body[key].get<double>();
  if (!std::isfinite(value))
    throw HttpError(422, "unprocessable", std::string("\"") + key + "\" must be finite");
  return value;
}

bool bool_field(const nlohmann::json& body, const char* key, bool fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  if (!body[key].is_boolean())
    throw HttpError(422, "unprocessable", std::string("\"") + key + "\" must be true or false");
  return body[key].get<bool>();
}

bool bool_query(const Request& r, const char* key, bool fallback) {
  auto it = r.query.find(key);
  if (it == r.query.end()) return fallback;
  const std::string& v = it->second;
  if (v.empty() || v == "1" || v == "true" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "no") return false;
  throw HttpError(400, "bad_request", std::string("?") + key + "=" + v + " is not a boolean (true or false)");
}

}  // namespace fleet::server
