// HTTP to the engine through libcurl, over its unix socket or TCP. Endpoint code above this never
// knows which. Curl handles are pooled: a call borrows an idle one and gives it back, so one thread
// making calls one after another keeps using one open connection.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/endpoint.hpp"

namespace fleet::engine {

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // path and query, e.g. "/v1.41/containers/json?all=1"
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{60'000};  // whole request; 0 = no limit (follow streams, waits)
  // When set, a successful (< 300) body is delivered here chunk by chunk as it arrives instead of
  // being collected; return false to end the transfer early. Error bodies are always collected.
  std::function<bool(std::string_view)> on_data;
  // Polled while the transfer runs (also when no data flows); setting it ends the transfer early.
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool ended_early = false;  // on_data or cancel stopped the transfer
  std::string header(const std::string& lower_case_name) const;
};

// A connection taken over after an HTTP upgrade (exec with stdin attached): raw bytes both ways.
class RawConnection {
 public:
  RawConnection(void* curl, int fd) : curl_(curl), fd_(fd) {}
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  int fd() const { return fd_; }
  // Throws ConnectionError when the peer is gone.
  void send_all(std::string_view data);
  // Closes our sending side: the peer reads end-of-input.
  void finish_sending();

 private:
  void* curl_;
  int fd_;
};

class Transport {
 public:
  explicit Transport(Endpoint endpoint);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Throws ConnectionError when nothing answers, TimeoutError past the deadline.
  HttpResponse perform(const HttpRequest& request);

  // A fresh connection of its own (not pooled), for a request whose answer upgrades it.
  std::unique_ptr<RawConnection> connect_raw();

  const Endpoint& endpoint() const { return endpoint_; }
  // Connections opened since construction (each reused call adds nothing).
  long connections_opened() const { return connections_opened_.load(); }

 private:
  class Handle;
  std::unique_ptr<Handle> borrow();
  void give_back(std::unique_ptr<Handle> handle);

  Endpoint endpoint_;
  std::string base_url_;
  std::mutex idle_mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
  std::atomic<long> connections_opened_{0};
};

}  // namespace fleet::engine
