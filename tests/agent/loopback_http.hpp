// A tiny HTTP/1.1 server on 127.0.0.1 for tests: one request per connection, answered by a
// handler, with the answer written as a Content-Length body or as chunks (with pauses, so a
// client really sees them arrive piecewise). Records every request.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vespid::test {

struct HttpRecord {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // names in lower case
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::string> chunks;  // the body; sent with chunked encoding when `chunked`
  bool chunked = false;
  std::chrono::milliseconds gap{0};  // pause between chunks
};

class LoopbackHttpServer {
 public:
  using Handler = std::function<HttpReply(const HttpRecord&)>;

  explicit LoopbackHttpServer(Handler handler);
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<HttpRecord> requests() const;

 private:
  void serve();
  void handle(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<HttpRecord> records_;
  std::thread thread_;
};

}  // namespace vespid::test
