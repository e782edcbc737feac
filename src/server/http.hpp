// The HTTP side of the server, without sockets: a request as the routes see it, what they answer
// (a whole reply or a stream), and the one error type that becomes a JSON error body.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet/errors.hpp"

namespace fleet::server {

struct Request {
  std::string method;
  std::string target;                 // as sent: path and query
  std::vector<std::string> segments;  // the path, split at '/' and percent-decoded
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_case_name) const;
};

// Parses "/kernels/abc?tail=10" into segments and query (percent-decoding both). Throws HttpError
// 400 for malformed escapes.
void parse_target(Request& request);

// An answer the routes give instead of a result: a status, a short error name and a message, sent
// as {"error": name, "message": message}.
struct HttpError : std::runtime_error {
  HttpError(int code, std::string name, const std::string& message, std::vector<std::string> methods = {})
      : std::runtime_error(message), status(code), error(std::move(name)), allow(std::move(methods)) {}
  int status;
  std::string error;
  std::vector<std::string> allow;  // 405: the methods the path takes
};

// The fleet's error kinds as HTTP statuses and error names: the server's one mapping.
int status_of(ErrorKind kind);
const char* error_name(ErrorKind kind);

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};
Reply json_reply(int status, const nlohmann::json& body);
Reply error_reply(const HttpError& e);

// A response written as it is produced (server-sent events, followed logs). `write` sends one chunk
// and returns false once the client is gone; `stopping` turns true when the server shuts down.
struct StreamWriter {
  virtual ~StreamWriter() = default;
  virtual bool write(std::string_view chunk) = 0;
  virtual bool stopping() const = 0;
};
struct Streamed {
  int status = 200;
  std::string content_type;
  std::function<void(StreamWriter&)> produce;
};
using Outcome = std::variant<Reply, Streamed>;

// A JSON request body: application/json (else 415), well-formed (else 400), nested no deeper than
// `max_depth` (else 400), an object of the allowed fields only (else 422 naming the field).
nlohmann::json json_body(const Request& request, int max_depth, const std::vector<std::string>& allowed);

// Typed fields of a body (422 naming the field when the type is wrong).
std::string text_field(const nlohmann::json& body, const char* key);
std::optional<double> number_field(const nlohmann::json& body, const char* key);
bool bool_field(const nlohmann::json& body, const char* key, bool fallback);
// A query parameter as a boolean ("1", "true", "yes" / "0", "false", "no"; 400 otherwise).
bool bool_query(const Request& request, const char* key, bool fallback);

}  // namespace fleet::server
