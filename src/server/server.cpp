// The server's sockets: Boost.Beast over Asio. A thread per connection, blocking reads and writes:
// requests call the engine and wait on it, and streams (events, followed logs) are long;
// connections are capped. A kernel's WebSocket runs on its connection's thread too, on an
// io_context of its own (both directions at once). A watcher thread
// follows the engine's events and fans them out; a signal thread turns SIGTERM into a graceful stop.
#include "server/server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "server/events_hub.hpp"
#include "server/gateway.hpp"
#include "server/http.hpp"
#include "server/routes.hpp"
#include "server/websocket.hpp"
#include "util/constant_time.hpp"

namespace fleet::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

constexpr std::size_t kDrainLimit = 256u << 20;  // a too large body is read and dropped up to this
constexpr auto kIdleTimeout = std::chrono::seconds(60);

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = net::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The host part of a Host header: "[::1]:9550" -> "::1", "localhost:9550" -> "localhost".
std::string host_of(const std::string& header) {
  if (!header.empty() && header[0] == '[') return lower(header.substr(1, header.find(']') - 1));
  return lower(header.substr(0, header.find(':')));
}

// A request target as logged: the value of a ?token= parameter left out.
std::string without_token(std::string target) {
  for (auto at = target.find('?'); at != std::string::npos; at = target.find('&', at + 1)) {
    if (target.compare(at + 1, 6, "token=") != 0) continue;
    const auto value = at + 7;
    const auto end = target.find('&', value);
    target.replace(value, end == std::string::npos ? std::string::npos : end - value, "***");
  }
  return target;
}

std::string now_text() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

class Server;

// One client connection, known to the server so a stop can reach it.
struct Connection {
  tcp::socket socket;
  std::atomic<bool> in_request{false};
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}
};

class ChunkWriter final : public StreamWriter {
 public:
  ChunkWriter(tcp::socket& socket, const std::atomic<bool>& stopping)
      : socket_(socket), stopping_(stopping) {}
  bool write(std::string_view chunk) override {
    if (failed_ || chunk.empty()) return !failed_;
    beast::error_code ec;
    net::write(socket_, http::make_chunk(net::buffer(chunk.data(), chunk.size())), ec);
    failed_ = bool(ec);
    return !failed_;
  }
  bool stopping() const override { return stopping_.load() || failed_; }
  void finish() {
    beast::error_code ec;
    if (!failed_) net::write(socket_, http::make_chunk_last(), ec);
  }

 private:
  tcp::socket& socket_;
  const std::atomic<bool>& stopping_;
  bool failed_ = false;
};

class Server {
 public:
  explicit Server(ServerOptions options) : o_(std::move(options)), acceptor_(io_) {
    if (!o_.log) o_.log = [](const std::string& line) { std::cerr << line << "\n" << std::flush; };
    o_.fleet.engine = Fleet::connect(o_.fleet.docker_host);
    o_.fleet.stats = Fleet::stats_memory();
    o_.fleet.progress = [](const ProgressEvent&) {};
  }

  ~Server() {
    // The pools stop with the server (their members stay, paused, for the next one to find).
    autoscaler_.reset();
    o_.fleet.pools.reset();
  }

  int run() {
    open_acceptor();
    // Signals are taken by one thread: every other thread starts with them blocked.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    // The pools and the autoscaler first (their threads start with the signals blocked): a
    // fleet.toml that does not load stops serve here, before any other thread runs.
    o_.fleet.pools = Fleet::start_pools(o_.fleet, o_.labels, {});
    try {
      autoscaler_ = Fleet::start_autoscaler(o_.fleet);
    } catch (const Error& e) {
      // A compose file that does not load leaves the rest of the service working; requests that
      // need the file say what is wrong with it.
      o_.log(now_text() + " autoscaler not started: " + e.what());
    }
    std::thread signal_thread([&] {
      int received = 0;
      sigwait(&signals, &received);
      if (!stopping_) o_.log(now_text() + " " + (received == SIGTERM ? "SIGTERM" : "SIGINT") + ": stopping");
      stop();
    });
    std::thread watcher([&] { watch_engine(); });
    // The fleet's own events (pools, scaling, drains) come through the fleet home's event log,
    // so those of other fleet processes (a `stop` on the command line) are streamed too.
    std::thread fleet_events([&] { follow_fleet_events(); });
    std::thread culler([&] { cull_idle_kernels(); });
    o_.log(now_text() + " serving on http://" + endpoint_text() +
           (o_.token.empty() ? "" : " (token required)"));
    accept_loop();
    // Stopped: requests in flight finish, idle and streaming connections are ended. Whatever still
    // runs after a minute has its socket shut too, and is waited for (each engine call has a deadline).
    if (!wait_for_connections(std::chrono::seconds(60))) {
      std::lock_guard lock(connections_mu_);
      for (auto* c : connections_) ::shutdown(c->socket.native_handle(), SHUT_RDWR);
    }
    wait_for_connections(std::chrono::hours(24));
    events_.close();
    watcher.join();
    fleet_events.join();
    culler.join();
    signal_thread.join();
    o_.log(now_text() + " stopped");
    return 0;
  }

  // Called by the signal thread; safe more than once.
  void stop() {
    if (stopping_.exchange(true)) return;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // a blocked accept returns
    std::lock_guard lock(connections_mu_);
    for (auto* c : connections_)
      if (!c->in_request) ::shutdown(c->socket.native_handle(), SHUT_RD);  // idle: its read returns
    events_.close();
  }

 private:
  std::shared_ptr<AutoscaleService> autoscaler_;
  HealthCache health_;
  std::string endpoint_text() const {
    return (o_.host.find(':') != std::string::npos ? "[" + o_.host + "]" : o_.host) + ":" +
           std::to_string(port_);
  }

  void open_acceptor() {
    boost::system::error_code ec;
    auto address = net::ip::make_address(o_.host == "localhost" ? "127.0.0.1" : o_.host, ec);
    if (ec) throw InvalidInput("--host " + o_.host + " is not an IP address");
    tcp::endpoint endpoint(address, static_cast<unsigned short>(o_.port));
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint, ec);
    if (ec)
      throw Conflict("cannot listen on " + o_.host + ":" + std::to_string(o_.port) + ": " + ec.message());
    acceptor_.listen(net::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
  }

  void accept_loop() {
    while (!stopping_) {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) {
        if (stopping_) break;
        continue;  // a client that went away while we accepted
      }
      auto connection = std::make_unique<Connection>(std::move(socket));
      {
        std::lock_guard lock(connections_mu_);
        if (connections_.size() >= o_.max_connections) {
          reply_and_close(connection->socket, 503, "too many connections; try again");
          continue;
        }
        connections_.insert(connection.get());
      }
      std::thread([this, c = std::move(connection)]() mutable { serve_connection(std::move(c)); }).detach();
    }
  }

  void reply_and_close(tcp::socket& socket, int status, const std::string& message) {
    Reply reply = error_reply(HttpError(status, "unavailable", message));
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, reply.content_type);
    res.set(http::field::connection, "close");
    res.body() = reply.body;
    res.prepare_payload();
    beast::error_code ec;
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  template <typename Duration>
  bool wait_for_connections(Duration limit) {
    std::unique_lock lock(connections_mu_);
    return connections_done_.wait_for(lock, limit, [&] { return connections_.empty(); });
  }

  void serve_connection(std::unique_ptr<Connection> c) {
    struct timeval tv {
      static_cast<time_t>(kIdleTimeout.count()), 0
    };
    ::setsockopt(c->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(c->socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    beast::flat_buffer buffer;
    try {
      while (!stopping_ && serve_one(*c, buffer)) {
      }
    } catch (const std::exception& e) {
      o_.log(now_text() + " connection error: " + e.what());
    }
    beast::error_code ec;
    c->socket.shutdown(tcp::socket::shutdown_send, ec);
    c->socket.close(ec);
    std::lock_guard lock(connections_mu_);
    connections_.erase(c.get());
    connections_done_.notify_all();
  }

  // Reads one request and answers it; false when the connection is to be closed.
  bool serve_one(Connection& c, beast::flat_buffer& buffer) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    // No body limit while the header is read (Beast would refuse a large Content-Length there,
    // before a 413 could be sent); it is set once the header has been looked at. (Not boost::none:
    // Beast 1.74 compares a length with it as with a limit of zero.)
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    beast::error_code ec;
    http::read_header(c.socket, buffer, parser, ec);
    if (ec) return false;  // closed, timed out idle, or garbage: nothing to answer
    c.in_request = true;
    struct Idle {
      Connection& c;
      ~Idle() { c.in_request = false; }
    } idle{c};
    const auto started = std::chrono::steady_clock::now();
    auto& header = parser.get();
    const unsigned version = header.version();
    const bool keep_alive = header.keep_alive();
    std::string method(header.method_string()), target(header.target());

    auto answer = [&](const Reply& reply, bool keep) {
      http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
      res.set(http::field::content_type, reply.content_type);
      res.set(http::field::server, "llmspell-fleet");
      for (const auto& [name, value] : reply.headers) res.set(name, value);
      res.body() = method == "HEAD" ? std::string() : reply.body;
      res.keep_alive(keep);
      res.prepare_payload();
      beast::error_code wec;
      http::write(c.socket, res, wec);
      log_request(method, target, reply.status, started);
      return keep && !wec;
    };

    // A body over the limit: answered 413 without reading it into memory; what the client is
    // sending meanwhile is drained (up to a bound) so it can read the answer.
    auto length = parser.content_length();
    if (length && *length > o_.max_body) {
      bool expects_continue = lower(std::string(header[http::field::expect])) == "100-continue";
      answer(error_reply(HttpError(413, "payload_too_large",
                                   "the body is " + std::to_string(*length) + " bytes; at most " +
                                       std::to_string(o_.max_body) + " are accepted")),
             false);
      if (!expects_continue && *length <= kDrainLimit) drain(c.socket, buffer, *length);
      return false;
    }
    parser.body_limit(o_.max_body);  // a chunked body has no length to check up front
    if (lower(std::string(header[http::field::expect])) == "100-continue") {
      http::response<http::empty_body> cont{http::status::continue_, version};
      http::write(c.socket, cont, ec);
    }
    http::read(c.socket, buffer, parser, ec);
    if (ec == http::error::body_limit)
      return answer(
          error_reply(HttpError(413, "payload_too_large",
                                "the body is larger than " + std::to_string(o_.max_body) + " bytes")),
          false);
    if (ec)
      return answer(error_reply(HttpError(400, "bad_request", "malformed request: " + ec.message())), false);

    Request request;
    request.method = method;
    request.target = target;
    for (const auto& field : header)
      request.headers[lower(std::string(field.name_string()))] = std::string(field.value());
    request.body = std::move(header.body());

    if (websocket::is_upgrade(header)) {
      std::unique_ptr<KernelChannels> channels;
      std::string kernel_id;
      try {
        parse_target(request);
        admit(request);
        admit_origin(request);
        Fleet fleet(o_.fleet);
        auto id = channels_kernel(request, fleet);
        if (!id) throw HttpError(404, "not_found", "no WebSocket at " + target.substr(0, target.find('?')));
        kernel_id = *id;
        channels = fleet.channels(kernel_id);
      } catch (...) {
        return answer(current_error_reply(), false);
      }
      log_request(method, target, 101, started);
      bridge(c, header, *channels, kernel_id);
      return false;
    }

    Outcome outcome;
    try {
      parse_target(request);
      admit(request);
      RouteContext context{.fleet = o_.fleet,
                           .events = events_,
                           .max_json_depth = o_.max_json_depth,
                           .health = &health_,
                           .labels = o_.labels};
      outcome = route(request, context);
    } catch (...) {
      outcome = current_error_reply();
    }
    if (auto* reply = std::get_if<Reply>(&outcome)) return answer(*reply, keep_alive && !stopping_);

    // A stream: chunked, until the producer ends, the client goes, or the server stops.
    auto& streamed = std::get<Streamed>(outcome);
    http::response<http::empty_body> res{static_cast<http::status>(streamed.status), version};
    res.set(http::field::content_type, streamed.content_type);
    res.set(http::field::cache_control, "no-cache");
    res.set(http::field::server, "llmspell-fleet");
    res.chunked(true);
    res.keep_alive(false);
    http::response_serializer<http::empty_body> serializer{res};
    http::write_header(c.socket, serializer, ec);
    if (ec) return false;
    log_request(method, target, streamed.status, started);
    ChunkWriter writer(c.socket, stopping_);
    streamed.produce(writer);
    writer.finish();
    return false;
  }

  // The exception being handled as the reply it becomes: the server's one mapping.
  static Reply current_error_reply() {
    try {
      throw;
    } catch (const HttpError& e) {
      return error_reply(e);
    } catch (const Error& e) {
      return error_reply(HttpError(status_of(e.kind()), error_name(e.kind()), e.what()));
    } catch (const std::exception& e) {
      return error_reply(HttpError(500, "internal", e.what()));
    }
  }

  // A kernel's WebSocket, on a duplicate of the connection's socket owned by an io_context of its
  // own, so both directions run at once; ends when either side goes or the server stops.
  void bridge(Connection& c, const http::request<http::string_body>& upgrade, KernelChannels& channels,
              const std::string& kernel_id) {
    net::io_context io;
    beast::error_code ec;
    const int fd = ::dup(c.socket.native_handle());
    if (fd < 0) return;
    tcp::socket socket(io);
    socket.assign(c.socket.local_endpoint(ec).protocol(), fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    WebSocket ws(std::move(socket));
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "llmspell-fleet"); }));
    ws.accept(upgrade, ec);
    if (ec) return;
    Fleet fleet(o_.fleet);
    BridgeHooks hooks{
        .kernel_gone = [&]() -> std::string {
          try {
            KernelRow k = fleet.kernel(kernel_id);
            return k.state == "running" ? "" : "kernel " + kernel_id + " " + k.state_text();
          } catch (const Error& e) {
            // An engine that does not answer for a moment is not a dead kernel.
            return e.kind() == ErrorKind::NotFound ? "kernel " + kernel_id + " was removed" : "";
          }
        },
        .stopping = &stopping_,
        .log =
            [&](const std::string& line) { o_.log(now_text() + " websocket " + kernel_id + ": " + line); }};
    const std::string ended = bridge_channels(io, ws, channels, hooks);
    o_.log(now_text() + " websocket " + kernel_id + " ended: " + ended);
  }

  void drain(tcp::socket& socket, beast::flat_buffer& buffer, std::uint64_t length) {
    std::uint64_t left = length > buffer.size() ? length - buffer.size() : 0;
    buffer.consume(buffer.size());
    char sink[65536];
    beast::error_code ec;
    while (left > 0 && !ec) left -= std::min<std::uint64_t>(left, socket.read_some(net::buffer(sink), ec));
  }

  // Who may ask: the token when one is set, and a Host this server answers to (DNS rebinding).
  void admit(const Request& r) {
    const std::string host = host_of(r.header("host"));
    boost::system::error_code ec;
    net::ip::make_address(host, ec);
    bool host_ok = !ec /* an IP address cannot be rebound */ || host == "localhost" ||
                   host == lower(o_.host) ||
                   std::find(o_.allow_hosts.begin(), o_.allow_hosts.end(), host) != o_.allow_hosts.end();
    if (!host_ok)
      throw HttpError(403, "forbidden",
                      "Host \"" + host + "\" is not one this server answers to (--allow-host)");
    if (o_.token.empty()) return;
    // A browser cannot set headers on EventSource, nor on the dashboard's own page: ?token= too.
    if (auto query = r.query.find("token");
        query != r.query.end() && util::constant_time_equal(query->second, o_.token))
      return;
    // "Bearer T", or "token T" as Jupyter's gateway client sends it.
    const std::string auth = r.header("authorization");
    const auto space = auth.find(' ');
    const std::string scheme = lower(auth.substr(0, space));
    const bool ok = space != std::string::npos && (scheme == "bearer" || scheme == "token") &&
                    util::constant_time_equal(auth.substr(space + 1), o_.token);
    if (!ok)
      throw HttpError(401, "unauthorized",
                      "a valid token is required: Authorization: Bearer <token> (or ?token=<token>)");
  }

  // A WebSocket has no CORS: a page of another origin could open one in the user's browser, so
  // a browser's Origin must be a host this server answers to (clients that are not browsers send none).
  void admit_origin(const Request& r) {
    std::string origin = r.header("origin");
    if (origin.empty()) return;
    const auto scheme = origin.find("://");
    const std::string host = host_of(scheme == std::string::npos ? origin : origin.substr(scheme + 3));
    boost::system::error_code ec;
    auto address = net::ip::make_address(host, ec);
    bool ok = (!ec && (address.is_loopback() || host == lower(o_.host))) || host == "localhost" ||
              std::find(o_.allow_hosts.begin(), o_.allow_hosts.end(), host) != o_.allow_hosts.end();
    if (!ok) throw HttpError(403, "forbidden", "Origin \"" + origin + "\" may not open a kernel's WebSocket");
  }

  void log_request(const std::string& method, const std::string& target, int status,
                   std::chrono::steady_clock::time_point started) {
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, " %d %.1fms", status, ms);
    o_.log(now_text() + " " + method + " " + without_token(target).substr(0, 200) + buf);
  }

  // Idle culling (fleet.toml's idle_cull_seconds; off unless a template sets it), every few seconds.
  void cull_idle_kernels() {
    Fleet fleet(o_.fleet);
    while (!stopping_) {
      for (int i = 0; i < 50 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (stopping_) break;
      try {
        for (const auto& d : fleet.cull_idle())
          o_.log(now_text() + " idle cull: " + d.kernel_id +
                 (d.checkpoint.empty() ? "" : ", checkpoint " + d.checkpoint));
      } catch (const std::exception& e) {
        o_.log(now_text() + " idle cull: " + e.what());
      }
    }
  }

  void follow_fleet_events() {
    Fleet fleet(o_.fleet);
    while (!stopping_) {
      try {
        fleet.fleet_events({.cancel = &stopping_}, [&](const FleetEvent& e) {
          events_.publish(e);
          return !stopping_.load();
        });
      } catch (const std::exception& e) {
        o_.log(now_text() + " event log: " + e.what());
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }
  }

  // Follows the engine's events for as long as the server runs; when the engine goes away, tells
  // the event clients, reconnects with backoff and catches up from the last event seen.
  void watch_engine() {
    Fleet fleet(o_.fleet);
    // Caught up to: the last event seen, or when the server began to watch (what happened before
    // it started is not news; what happens while the engine is away is replayed from here).
    std::optional<std::int64_t> last = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count();
    auto backoff = std::chrono::milliseconds(500);
    bool engine_up = true;
    while (!stopping_) {
      const auto started = std::chrono::steady_clock::now();
      try {
        fleet.watch({.since_nano = last, .cancel = &stopping_}, [&](const FleetEvent& e) {
          if (!engine_up) {
            engine_up = true;
            events_.publish({.type = "engine", .health = "available"});
          }
          last = e.time_nano;
          events_.publish(e);
          return !stopping_.load();
        });
      } catch (const Error& e) {
        if (engine_up) {
          engine_up = false;
          o_.log(now_text() + " engine: " + e.what() + "; reconnecting");
          events_.publish({.type = "engine", .health = "unavailable", .message = e.what()});
        }
      }
      if (stopping_) break;
      // A stream that ended at once is an engine that is not back yet: wait longer each time.
      if (std::chrono::steady_clock::now() - started > std::chrono::seconds(10))
        backoff = std::chrono::milliseconds(500);
      for (auto waited = std::chrono::milliseconds(0); waited < backoff && !stopping_;
           waited += std::chrono::milliseconds(100))
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
    }
  }

  ServerOptions o_;
  net::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  EventHub events_;
  std::mutex connections_mu_;
  std::condition_variable connections_done_;
  std::set<Connection*> connections_;
};

}  // namespace

void check_options(const ServerOptions& o) {
  if (o.port < 0 || o.port > 65535)
    throw InvalidInput("--port " + std::to_string(o.port) + " is not a TCP port");
  if (!is_loopback(o.host) && o.token.empty())
    throw InvalidInput(
        "refusing to serve on " + o.host +
        " without a token: whoever reaches it could create containers, which is root on this host. "
        "Give --token or --token-file, or serve on 127.0.0.1");
}

int serve(const ServerOptions& options) {
  check_options(options);
  try {
    Server server(options);
    return server.run();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw OperationFailed(std::string("serve: ") + e.what());
  }
}

}  // namespace fleet::server
