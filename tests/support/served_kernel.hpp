// A kernel served in-process on loopback by a thread of the test, and the few client steps the tests
// need (signed requests on a DEALER, replies matched by their parent's msg_id).
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "jupyter/signer.hpp"
#include "jupyter/wire.hpp"
#include "kernel/connection_file.hpp"
#include "kernel/kernel.hpp"

namespace fleet::test {

// Asks again every 20 ms; gives up after 10 s, long enough for a loaded machine.
template <class Condition>
bool eventually(Condition done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Stopped (as SIGTERM would) when it goes out of scope. `name` keeps the state folders of several
// kernels of one test apart.
class ServedKernel {
 public:
  explicit ServedKernel(const std::string& name = "clients-test", const std::string& language = "lua")
      : dir_(std::filesystem::temp_directory_path() /
             ("fleet-kernel-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    kernel::KernelOptions options;
    options.bind_ip = "127.0.0.1";
    options.connection.key = jupyter::random_hex(32);
    options.connection_file = dir_ / "connection.json";
    options.kernel_id = name;
    options.language = language;
    options.state_dir = dir_;
    kernel_ = std::make_unique<kernel::Kernel>(std::move(options));
    thread_ = std::thread([this] {
      try {
        kernel_->run(stop_, interrupt_);
      } catch (const std::exception& e) {
        failure_ = e.what();
      }
    });
  }
  ~ServedKernel() {
    stop();
    std::filesystem::remove_all(dir_);
  }
  ServedKernel(const ServedKernel&) = delete;
  ServedKernel& operator=(const ServedKernel&) = delete;

  // The status file is written after the connection file: once it is there, both are.
  bool ready() {
    return eventually([&] { return std::filesystem::exists(status_file()); });
  }
  kernel::ConnectionInfo connection() const { return kernel::read_connection_file(dir_ / "connection.json"); }
  std::filesystem::path status_file() const { return dir_ / "status.json"; }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::string& failure() const { return failure_; }

 private:
  std::filesystem::path dir_;
  std::atomic<bool> stop_{false}, interrupt_{false};
  std::unique_ptr<kernel::Kernel> kernel_;
  std::thread thread_;
  std::string failure_;
};

// Sends a signed request; returns its msg_id.
inline std::string send_request(zmq::socket_t& socket, const jupyter::Signer& signer, const std::string& type,
                                const nlohmann::json& content = nlohmann::json::object()) {
  jupyter::Message request;
  request.header = jupyter::make_header(type, "test-client");
  request.content = content;
  auto frames = jupyter::encode(request, signer);
  for (std::size_t i = 0; i < frames.size(); ++i)
    socket.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  return request.header["msg_id"];
}

// The reply to `msg_id`: its whole message, or nothing within `timeout`. Other replies are skipped.
inline std::optional<jupyter::Message> await_reply(
    zmq::socket_t& socket, const jupyter::Signer& signer, const std::string& msg_id,
    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    zmq::pollitem_t items[] = {{static_cast<void*>(socket), 0, ZMQ_POLLIN, 0}};
    if (zmq::poll(items, 1, std::chrono::milliseconds(100)) == 0) continue;
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(socket, std::back_inserter(parts))) continue;
    std::vector<std::string> received;
    for (auto& p : parts) received.emplace_back(p.to_string());
    jupyter::Decoded d = jupyter::decode(received, signer);
    if (d.message && d.message->parent_header.value("msg_id", "") == msg_id) return d.message;
  }
  return std::nullopt;
}

// A DEALER connected to one of the kernel's ports.
inline zmq::socket_t dealer(zmq::context_t& context, const kernel::ConnectionInfo& c, int port) {
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(c.endpoint(port));
  return socket;
}

}  // namespace fleet::test
