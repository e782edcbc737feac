#include "engine/transport.hpp"

#include <curl/curl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "engine/errors.hpp"

namespace fleet::engine {
namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// RAII for a curl_slist.
struct HeaderList {
  curl_slist* list = nullptr;
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() { curl_slist_free_all(list); }
  void add(const std::string& line) {
    curl_slist* grown = curl_slist_append(list, line.c_str());
    if (!grown) throw std::bad_alloc();
    list = grown;
  }
};

// State shared with curl's callbacks for one transfer.
struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  bool stopped_by_caller = false;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new status line (after 100 Continue, say) starts a fresh header set.
    t->response->headers.clear();
    auto space = line.find(' ');
    if (space != std::string_view::npos)
      t->response->status = std::atol(std::string(line.substr(space + 1, 3)).c_str());
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    t->response->headers[name] = std::string(value);
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * count);
  if (t->request->on_data && t->response->status < 300) {
    if (!t->request->on_data(chunk)) {
      t->stopped_by_caller = true;
      return CURL_WRITEFUNC_ERROR;
    }
  } else {
    t->response->body.append(chunk);
  }
  return chunk.size();
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->cancel && t->request->cancel->load()) {
    t->stopped_by_caller = true;
    return 1;
  }
  return 0;
}

}  // namespace

class Transport::Handle {
 public:
  Handle() : curl_(curl_easy_init()) {
    if (!curl_) throw std::bad_alloc();
  }
  ~Handle() { curl_easy_cleanup(curl_); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  CURL* get() const { return curl_; }

 private:
  CURL* curl_;
};

std::string HttpResponse::header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? std::string() : it->second;
}

Transport::Transport(Endpoint endpoint) : endpoint_(std::move(endpoint)), base_url_(endpoint_.base_url()) {
  global_init_once();
}

Transport::~Transport() = default;

std::unique_ptr<Transport::Handle> Transport::borrow() {
  std::lock_guard lock(idle_mutex_);
  if (idle_.empty()) return std::make_unique<Handle>();
  auto handle = std::move(idle_.back());
  idle_.pop_back();
  return handle;
}

void Transport::give_back(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(idle_mutex_);
  idle_.push_back(std::move(handle));
}

HttpResponse Transport::perform(const HttpRequest& request) {
  auto handle = borrow();
  CURL* curl = handle->get();
  // reset keeps the handle's open connection; only the options go.
  curl_easy_reset(curl);

  HttpResponse response;
  Transfer transfer{&request, &response};
  HeaderList headers;
  headers.add("Expect:");  // no 100-continue round trip before large bodies
  for (const auto& [name, value] : request.headers) headers.add(name + ": " + value);

  std::string url = base_url_ + request.target;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (endpoint_.kind == Endpoint::Kind::Unix)
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, endpoint_.socket_path.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, request.cancel ? 0L : 1L);
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method != "DELETE" || !request.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
  }

  CURLcode code = curl_easy_perform(curl);
  long new_connections = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &new_connections);
  connections_opened_ += new_connections;
  give_back(std::move(handle));

  if (code == CURLE_OK) return response;
  if (transfer.stopped_by_caller) {
    response.ended_early = true;
    return response;
  }
  std::string what = request.method + " " + request.target;
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
      throw ConnectionError("cannot reach the Docker engine at " + endpoint_.address +
                            ": is dockerd running?");
    case CURLE_OPERATION_TIMEDOUT:
      throw TimeoutError("the Docker engine at " + endpoint_.address + " did not finish " + what +
                         " within " + std::to_string(request.timeout.count()) + " ms");
    default:
      if (response.status == 0)
        throw ConnectionError("lost the connection to the Docker engine at " + endpoint_.address +
                              " during " + what + ": " + curl_easy_strerror(code));
      throw ProtocolError("reading the answer to " + what + " failed: " + curl_easy_strerror(code));
  }
}

RawConnection::~RawConnection() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void RawConnection::send_all(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 1000);
      continue;
    }
    if (n <= 0)
      throw ConnectionError(std::string("the engine closed an attached connection: ") + std::strerror(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void RawConnection::finish_sending() {
  ::shutdown(fd_, SHUT_WR);
}

std::unique_ptr<RawConnection> Transport::connect_raw() {
  CURL* curl = curl_easy_init();
  if (!curl) throw std::bad_alloc();
  std::string url = base_url_ + "/";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (endpoint_.kind == Endpoint::Kind::Unix)
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, endpoint_.socket_path.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform(curl) != CURLE_OK) {
    curl_easy_cleanup(curl);
    throw ConnectionError("cannot reach the Docker engine at " + endpoint_.address + ": is dockerd running?");
  }
  ++connections_opened_;
  curl_socket_t fd = CURL_SOCKET_BAD;
  curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &fd);
  return std::make_unique<RawConnection>(curl, static_cast<int>(fd));
}

}  // namespace fleet::engine
