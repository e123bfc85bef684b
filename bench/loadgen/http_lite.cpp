#include "http_lite.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace vespid::bench {

std::string http_request(std::string_view method, std::string_view path,
                         const std::vector<std::string>& headers, std::string_view body) {
  std::string r;
  r.reserve(256 + body.size());
  r.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& h : headers) r.append(h).append("\r\n");
  if (!body.empty() || method == "POST") {
    r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  r.append("\r\n").append(body);
  return r;
}

std::size_t http_parse_response(std::string_view data, HttpResponse& out) {
  const std::size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return 0;
  const std::string_view head = data.substr(0, head_end);
  if (!head.starts_with("HTTP/1.")) throw std::runtime_error("not an HTTP response");
  int status = 0;
  std::from_chars(head.data() + 9, head.data() + std::min<std::size_t>(12, head.size()), status);
  std::size_t length = 0;
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos < head.size()) {
    const std::size_t next = head.find("\r\n", pos + 2);
    std::string_view line =
        head.substr(pos + 2, (next == std::string_view::npos ? head.size() : next) - pos - 2);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (name == "content-length") {
        std::string_view v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        std::from_chars(v.data(), v.data() + v.size(), length);
      }
    }
    pos = next;
  }
  const std::size_t total = head_end + 4 + length;
  if (data.size() < total) return 0;
  out.status = status;
  out.body.assign(data.substr(head_end + 4, length));
  return total;
}

namespace {
int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  // Never wait forever on a gateway that stopped answering.
  timeval limit{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  return fd;
}
}  // namespace

HttpResponse http_call(int port, std::string_view method, std::string_view path,
                       const std::vector<std::string>& headers, std::string_view body) {
  const int fd = connect_loopback(port);
  std::vector<std::string> h = headers;
  h.push_back("Connection: close");
  const std::string req = http_request(method, path, h, body);
  std::size_t off = 0;
  while (off < req.size()) {
    const ssize_t n = ::write(fd, req.data() + off, req.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[16384];
  HttpResponse r;
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) in.append(buf, static_cast<std::size_t>(n));
    if (http_parse_response(in, r) > 0) break;
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("HTTP: connection closed before a whole response");
    }
  }
  ::close(fd);
  return r;
}

HttpPipe::HttpPipe(int port) : port_(port) {}

HttpPipe::~HttpPipe() {
  if (fd_ >= 0) ::close(fd_);
}

void HttpPipe::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
}

void HttpPipe::reconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
  fd_ = connect_loopback(port_);
}

std::vector<HttpResponse> HttpPipe::run(const std::vector<std::string>& requests,
                                        std::size_t depth) {
  std::vector<HttpResponse> out;
  out.reserve(requests.size());
  depth = std::max<std::size_t>(1, depth);
  char buf[65536];
  for (std::size_t first = 0; first < requests.size(); first += depth) {
    const std::size_t last = std::min(requests.size(), first + depth);
    std::string batch;
    for (std::size_t i = first; i < last; ++i) batch += requests[i];
    // The server may have closed the keep-alive connection (idle timeout) since the last batch:
    // a batch none of whose answers came is sent once more on a fresh connection. Only for
    // requests that may be repeated (the read-backs this is for).
    for (int attempt = 0;; ++attempt) {
      if (fd_ < 0) reconnect();
      bool failed = false;
      for (std::size_t off = 0; off < batch.size() && !failed;) {
        const ssize_t n = ::write(fd_, batch.data() + off, batch.size() - off);
        if (n <= 0) failed = true;
        if (n > 0) off += static_cast<std::size_t>(n);
      }
      std::size_t got = 0;
      while (!failed && first + got < last) {
        HttpResponse r;
        const std::size_t used = http_parse_response(in_, r);
        if (used > 0) {
          in_.erase(0, used);
          out.push_back(std::move(r));
          ++got;
          continue;
        }
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) {
          failed = true;
        } else {
          in_.append(buf, static_cast<std::size_t>(n));
        }
      }
      if (!failed) break;
      ::close(fd_);
      fd_ = -1;
      in_.clear();
      if (got > 0 || attempt > 0) {
        throw std::runtime_error("HTTP: the connection failed with " +
                                 std::to_string(last - first - got) + " answers missing");
      }
    }
  }
  return out;
}

}  // namespace vespid::bench
