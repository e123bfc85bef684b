#include "loopback_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace vespid::test {

namespace {

bool send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 401:
      return "Unauthorized";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

}  // namespace

LoopbackHttpServer::LoopbackHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("LoopbackHttpServer: cannot listen");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<HttpRecord> LoopbackHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

void LoopbackHttpServer::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void LoopbackHttpServer::handle(int fd) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string in;
  char buf[4096];
  std::size_t header_end;
  while ((header_end = in.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    in.append(buf, static_cast<std::size_t>(n));
  }
  HttpRecord rec;
  const std::string head = in.substr(0, header_end);
  std::size_t pos = head.find("\r\n");
  const std::string request_line = head.substr(0, pos);
  const auto sp1 = request_line.find(' ');
  const auto sp2 = request_line.find(' ', sp1 + 1);
  rec.method = request_line.substr(0, sp1);
  rec.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  while (pos != std::string::npos && pos < head.size()) {
    const auto next = head.find("\r\n", pos + 2);
    const std::string line =
        head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      rec.headers[lower(line.substr(0, colon))] = value;
    }
    pos = next;
  }
  std::size_t content_length = 0;
  if (auto it = rec.headers.find("content-length"); it != rec.headers.end()) {
    content_length = std::stoul(it->second);
  }
  rec.body = in.substr(header_end + 4);
  while (rec.body.size() < content_length) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    rec.body.append(buf, static_cast<std::size_t>(n));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    records_.push_back(rec);
  }
  const HttpReply reply = handler_(rec);
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason(reply.status) +
                    "\r\nContent-Type: " + reply.content_type + "\r\nConnection: close\r\n";
  if (reply.chunked) {
    out += "Transfer-Encoding: chunked\r\n\r\n";
    if (!send_all(fd, out)) return;
    for (const auto& c : reply.chunks) {
      if (reply.gap.count() > 0) std::this_thread::sleep_for(reply.gap);
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", c.size());
      if (!send_all(fd, size + c + "\r\n")) return;
    }
    send_all(fd, "0\r\n\r\n");
    return;
  }
  std::string body;
  for (const auto& c : reply.chunks) body += c;
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  send_all(fd, out);
}

}  // namespace vespid::test
