// The request chokepoint, version negotiation and the system endpoints.
#include "engine/client.hpp"

namespace fleet::engine {

std::string path_segment(std::string_view id_or_name) {
  return percent_encode(id_or_name);
}

Client::Client(Endpoint endpoint) : transport_(std::move(endpoint)) {}

Client Client::from_environment() {
  return Client(Endpoint::from_environment());
}

ApiVersion Client::api_version() {
  // call_once retries on the next call if the ping throws (engine not up yet).
  std::call_once(negotiated_, [this] {
    PingResult pong = ping();
    version_ = negotiate_api_version(ApiVersion::parse(pong.api_version));
  });
  return version_;
}

HttpResponse Client::call(Call c) {
  HttpRequest request;
  request.method = c.method;
  request.target = "/v" + api_version().str() + c.path + c.query.str();
  request.body = std::move(c.body);
  if (!c.content_type.empty()) request.headers.emplace_back("Content-Type", c.content_type);
  request.timeout = c.timeout;
  request.on_data = std::move(c.on_data);
  request.cancel = c.cancel;
  HttpResponse response = transport_.perform(request);
  if (response.status >= 400) throw_for_status(response.status, response.body, c.what);
  return response;
}

Client::Call Client::json_call(std::string method, std::string path, const nlohmann::json& body,
                               std::string what) {
  Call c;
  c.method = std::move(method);
  c.path = std::move(path);
  c.body = body.dump();
  c.content_type = "application/json";
  c.what = std::move(what);
  return c;
}

nlohmann::json Client::call_json(Call c) {
  std::string what = c.what;
  HttpResponse response = call(std::move(c));
  if (response.body.empty()) return nullptr;
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_discarded()) throw ProtocolError(what + ": the engine's answer is not JSON");
  return parsed;
}

HttpResponse Client::call_json_lines(Call c, const std::function<bool(const nlohmann::json&)>& record) {
  bool keep_going = true;
  std::string what = c.what;
  LineSplitter lines([&](std::string_view line) {
    if (!keep_going) return;
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (parsed.is_discarded()) throw ProtocolError(what + ": a streamed record is not JSON");
    keep_going = record(parsed);
  });
  c.on_data = [&](std::string_view chunk) {
    lines.feed(chunk);
    return keep_going;
  };
  HttpResponse response = call(std::move(c));
  if (keep_going) lines.finish();
  return response;
}

void Client::read_output(Call c, bool tty, const OutputSink& sink) {
  bool keep_going = true;
  if (tty) {
    c.on_data = [&](std::string_view chunk) { return keep_going = sink({StreamId::Stdout, chunk}); };
    call(std::move(c));
    return;
  }
  MuxDecoder decoder([&](StreamId stream, std::string_view data) {
    if (keep_going) keep_going = sink({stream, data});
  });
  c.on_data = [&](std::string_view chunk) {
    decoder.feed(chunk);
    return keep_going;
  };
  call(std::move(c));
}

PingResult Client::ping() {
  // Unversioned: this is how the version is found.
  HttpRequest request;
  request.target = "/_ping";
  request.timeout = std::chrono::seconds(10);
  HttpResponse response = transport_.perform(request);
  if (response.status >= 400) throw_for_status(response.status, response.body, "ping the engine");
  return {response.header("api-version"), response.header("ostype"), response.header("server")};
}

VersionInfo Client::version() {
  return call_json({.path = "/version", .what = "engine version"}).get<VersionInfo>();
}

nlohmann::json Client::info() {
  return call_json({.path = "/info", .what = "engine info"});
}

void Client::events(const EventsOptions& options, const std::function<bool(const Event&)>& sink) {
  Call c{
      .path = "/events", .timeout = std::chrono::milliseconds{0}, .cancel = options.cancel, .what = "events"};
  if (options.since) c.query.add("since", *options.since);
  if (options.until) c.query.add("until", *options.until);
  c.query.filters(options.filters);
  call_json_lines(std::move(c), [&](const nlohmann::json& j) { return sink(j.get<Event>()); });
}

}  // namespace fleet::engine
