#include "test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vespid::bridge::testing {

namespace {

std::string hex(const unsigned char* p, unsigned n) {
  static const char* const digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 0xf]);
  }
  return out;
}

std::string fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
  return hex(md, n);
}

// The pin check replaces chain verification: the one certificate that counts is the server's.
int verify_pin(X509_STORE_CTX* store, void* arg) {
  X509* cert = X509_STORE_CTX_get0_cert(store);
  return cert != nullptr && fingerprint(cert) == *static_cast<const std::string*>(arg) ? 1 : 0;
}

std::string ssl_errors() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error" : out;
}

int tcp_connect(const std::string& ip, uint16_t port, int rcvbuf, std::string* error) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (ip.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    ::inet_pton(AF_INET6, ip.c_str(), &a6->sin6_addr);
    len = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a4->sin_addr);
    len = sizeof(sockaddr_in);
  }
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    if (error) *error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string cert_fingerprint_sha256(const std::string& pem_file) {
  FILE* f = std::fopen(pem_file.c_str(), "r");
  if (f == nullptr) return {};
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return {};
  std::string fp = fingerprint(cert);
  X509_free(cert);
  return fp;
}

std::unique_ptr<LineClient> LineClient::connect(const std::string& ip, uint16_t port,
                                                std::string* error, int rcvbuf) {
  const int fd = tcp_connect(ip, port, rcvbuf, error);
  if (fd < 0) return nullptr;
  return std::unique_ptr<LineClient>(new LineClient(fd, nullptr, nullptr));
}

std::unique_ptr<LineClient> LineClient::connect_tls(const std::string& ip, uint16_t port,
                                                    const std::string& pin, std::string* error,
                                                    int max_version) {
  const int fd = tcp_connect(ip, port, 0, error);
  if (fd < 0) return nullptr;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  // Verification happens only during SSL_connect below, while `pinned` lives.
  std::string pinned = pin;
  SSL_CTX_set_cert_verify_callback(ctx, verify_pin, &pinned);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (max_version != 0) {
    SSL_CTX_set_security_level(ctx, 0);  // let this client offer old protocol versions at all
    SSL_CTX_set_min_proto_version(ctx, 0);
    SSL_CTX_set_max_proto_version(ctx, max_version);
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (SSL_connect(ssl) != 1) {
    if (error) *error = "TLS handshake failed: " + ssl_errors();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<LineClient>(new LineClient(fd, ctx, ssl));
}

LineClient::~LineClient() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  ::close(fd_);
}

uint16_t LineClient::local_port() const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  return a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port)
                                 : ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

bool LineClient::write_all(std::string_view data) {
  while (!data.empty()) {
    if (ssl_) {
      const int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    } else {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  return true;
}

int LineClient::fill(std::chrono::milliseconds timeout) {
  char chunk[16384];
  if (!ssl_ || SSL_pending(ssl_) == 0) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) return -1;
    if (r < 0) return -3;
  }
  if (ssl_) {
    const int n = SSL_read(ssl_, chunk, sizeof chunk);
    if (n > 0) {
      buf_.append(chunk, static_cast<std::size_t>(n));
      return n;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_ZERO_RETURN) return 0;
    if (err == SSL_ERROR_WANT_READ) return -1;
    if (err == SSL_ERROR_SYSCALL && errno == ECONNRESET) return -2;
    return -3;
  }
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n > 0) {
    buf_.append(chunk, static_cast<std::size_t>(n));
    return static_cast<int>(n);
  }
  if (n == 0) return 0;
  if (errno == ECONNRESET) return -2;
  return -3;
}

std::optional<std::string> LineClient::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (fill(left) <= 0) return std::nullopt;
  }
}

LineClient::End LineClient::read_to_end(std::string* rest, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return End::timeout;
    const int r = fill(left);
    if (r > 0) continue;
    if (rest) *rest = std::move(buf_);
    buf_.clear();
    switch (r) {
      case 0:
        return End::eof;
      case -1:
        return End::timeout;
      case -2:
        return End::reset;
      default:
        return End::error;
    }
  }
}

void LineClient::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

}  // namespace vespid::bridge::testing
