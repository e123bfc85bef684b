#include "bridge_client.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

namespace vespid::test {

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// Far above any frame a test sends or expects; low enough that a peer streaming garbage without
// a newline cannot eat the machine.
constexpr std::size_t kMaxLineBytes = 64u << 20;

int poll_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

std::string ms_text(BridgeClient::Duration d) {
  return std::to_string(d.count()) + " ms";
}

std::string hex(const unsigned char* data, unsigned int n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

std::string cert_pin(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
  return hex(md, n);
}

// Everything on OpenSSL's error queue for this thread, "; "-separated, and the queue emptied.
std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// OpenSSL writes to the socket with write(), which raises SIGPIPE when the peer is gone. Block
// it on this thread for the duration of a call and swallow one we caused, so a test process is
// not killed and no process-wide handler is changed.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &block, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      ::sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        const timespec zero{0, 0};
        while (::sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_{};
  bool was_pending_ = false;
};

// What the pin-verifying callback compares, reached through SSL_get_app_data.
struct PinCheck {
  std::string pin;   // expected; empty when not verifying by pin
  std::string seen;  // the leaf certificate's pin, once the callback saw it
};

// SSL_CTX_set_verify callback when verifying by pin: only the leaf matters, and it must have the
// pinned digest. Chain errors (self-signed, unknown issuer, expired) are the pin's business.
int verify_by_pin(int /*preverify_ok*/, X509_STORE_CTX* store) {
  if (X509_STORE_CTX_get_error_depth(store) != 0) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* check = ssl != nullptr ? static_cast<PinCheck*>(SSL_get_app_data(ssl)) : nullptr;
  if (check == nullptr) return 0;
  check->seen = cert_pin(X509_STORE_CTX_get_current_cert(store));
  if (!check->seen.empty() && check->seen == check->pin) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

}  // namespace

struct BridgeClient::Impl {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  std::string peer;
  std::string inbuf;
  std::deque<json> kept;
  unsigned long next_id = 1;
  bool eof = false;
  bool reset = false;
  PinCheck pin;

  ~Impl() { close(); }

  void close() noexcept {
    if (ssl != nullptr) SSL_free(ssl);  // no SSL_shutdown: an abrupt close, as a crash would be
    if (ctx != nullptr) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
    ssl = nullptr;
    ctx = nullptr;
    fd = -1;
  }

  void require_open() const {
    if (fd < 0) throw BridgeError("bridge client: not connected");
  }

  // Waits for `events` on the socket; false on timeout.
  bool wait(short events, Clock::time_point deadline) const {
    for (;;) {
      pollfd p{fd, events, 0};
      const int r = ::poll(&p, 1, poll_ms(deadline));
      if (r > 0) return true;
      if (r == 0) return false;
      if (errno != EINTR) throw BridgeError("poll on " + peer + ": " + std::strerror(errno));
    }
  }

  std::string tls_failure(const char* what, int ssl_error, int saved_errno) {
    std::string detail = openssl_errors();
    if (!pin.pin.empty() && !pin.seen.empty() && pin.seen != pin.pin) {
      return std::string(what) + " with " + peer +
             ": certificate pin mismatch: the server's certificate has SHA-256 " + pin.seen +
             ", expected " + pin.pin;
    }
    if (ssl != nullptr) {
      const long vr = SSL_get_verify_result(ssl);
      if (vr != X509_V_OK && pin.pin.empty()) {
        return std::string(what) + " with " + peer +
               ": certificate verification failed: " + X509_verify_cert_error_string(vr);
      }
    }
    if (detail.empty()) {
      if (ssl_error == SSL_ERROR_SYSCALL && saved_errno != 0) {
        detail = std::strerror(saved_errno);
      } else if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN) {
        detail = "the peer closed the connection";
      } else {
        detail = "SSL error " + std::to_string(ssl_error);
      }
    }
    return std::string(what) + " with " + peer + ": " + detail;
  }

  // >0: bytes read; 0: the peer closed (or reset) the connection; -1: timeout.
  long read_some(char* buf, std::size_t n, Clock::time_point deadline) {
    for (;;) {
      if (ssl != nullptr) {
        ERR_clear_error();
        std::size_t got = 0;
        const int r = SSL_read_ex(ssl, buf, n, &got);
        if (r == 1) return static_cast<long>(got);
        const int saved_errno = errno;
        const int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
          if (!wait(POLLIN, deadline)) return -1;
        } else if (e == SSL_ERROR_WANT_WRITE) {
          if (!wait(POLLOUT, deadline)) return -1;
        } else if (e == SSL_ERROR_ZERO_RETURN) {
          return 0;
        } else if (e == SSL_ERROR_SYSCALL &&
                   (saved_errno == ECONNRESET || saved_errno == EPIPE || saved_errno == 0)) {
          reset = saved_errno != 0;
          ERR_clear_error();
          return 0;
        } else {
          throw BridgeError(tls_failure("TLS read", e, saved_errno));
        }
        continue;
      }
      const ssize_t r = ::read(fd, buf, n);
      if (r >= 0) return static_cast<long>(r);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait(POLLIN, deadline)) return -1;
        continue;
      }
      if (errno == ECONNRESET) {
        reset = true;
        return 0;
      }
      throw BridgeError("read from " + peer + ": " + std::strerror(errno));
    }
  }

  void write_all(std::string_view bytes, Duration timeout) {
    require_open();
    const auto deadline = Clock::now() + timeout;
    std::size_t off = 0;
    while (off < bytes.size()) {
      bool want_read = false;
      if (ssl != nullptr) {
        SigpipeGuard guard;
        ERR_clear_error();
        std::size_t wrote = 0;
        const int r = SSL_write_ex(ssl, bytes.data() + off, bytes.size() - off, &wrote);
        if (r == 1) {
          off += wrote;
          continue;
        }
        const int saved_errno = errno;
        const int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
          want_read = true;
        } else if (e != SSL_ERROR_WANT_WRITE) {
          throw BridgeError(tls_failure("TLS write", e, saved_errno));
        }
      } else {
        // MSG_NOSIGNAL: a peer that went away is an error to report, not a SIGPIPE.
        const ssize_t r = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (r >= 0) {
          off += static_cast<std::size_t>(r);
          continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          throw BridgeError("send to " + peer + ": " + std::strerror(errno));
        }
      }
      if (!wait(want_read ? POLLIN : POLLOUT, deadline)) {
        throw BridgeError("send to " + peer + ": the peer took no data for " + ms_text(timeout) +
                          " (" + std::to_string(bytes.size() - off) + " bytes left)");
      }
    }
  }

  std::optional<std::string> read_line(Duration timeout) {
    require_open();
    const auto deadline = Clock::now() + timeout;
    std::size_t scanned = 0;
    for (;;) {
      const auto nl = inbuf.find('\n', scanned);
      if (nl != std::string::npos) {
        std::string line = inbuf.substr(0, nl);
        inbuf.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      scanned = inbuf.size();
      if (eof) {
        std::string msg = "the bridge peer " + peer +
                          (reset ? " reset the connection" : " closed the connection");
        if (!inbuf.empty()) {
          msg += " (after " + std::to_string(inbuf.size()) + " bytes of an unfinished line)";
        }
        throw BridgeClosed(msg);
      }
      if (inbuf.size() > kMaxLineBytes) {
        throw BridgeError("the bridge peer " + peer + " sent a line longer than " +
                          std::to_string(kMaxLineBytes) + " bytes");
      }
      char buf[65536];
      const long n = read_some(buf, sizeof buf, deadline);
      if (n < 0) return std::nullopt;
      if (n == 0) {
        eof = true;
      } else {
        inbuf.append(buf, static_cast<std::size_t>(n));
      }
    }
  }

  // The next JSON frame from the wire (kept frames not considered); nullopt on timeout.
  std::optional<json> read_frame(Clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
      auto line = read_line(std::max(left, Duration(0)));
      if (!line) return std::nullopt;
      if (line->find_first_not_of(" \t") == std::string::npos) continue;
      json frame = json::parse(*line, nullptr, /*allow_exceptions=*/false);
      if (frame.is_discarded()) {
        throw BridgeError("the bridge peer " + peer +
                          " sent a line that is not JSON: " + line->substr(0, 200));
      }
      return frame;
    }
  }
};

namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool valid_pin(const std::string& pin) {
  return pin.size() == 64 && pin.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

BridgeClient::BridgeClient() : impl_(std::make_unique<Impl>()) {}
BridgeClient::~BridgeClient() = default;
BridgeClient::BridgeClient(BridgeClient&&) noexcept = default;
BridgeClient& BridgeClient::operator=(BridgeClient&&) noexcept = default;

BridgeClient BridgeClient::connect(const std::string& host, int port, const TlsOptions& tls,
                                   Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  BridgeClient client;
  Impl& c = *client.impl_;
  c.peer =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  if (tls.enabled && !tls.pin_sha256.empty() && !valid_pin(tls.pin_sha256)) {
    throw BridgeError(
        "TLS pin for " + c.peer +
        " must be 64 lowercase hex digits (SHA-256 of the certificate's DER), got \"" +
        tls.pin_sha256 + "\"");
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    throw BridgeError("cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = found; ai != nullptr && c.fd < 0; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    int err = rc == 0 ? 0 : errno;
    if (rc != 0 && err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int ready;
      do {
        ready = ::poll(&p, 1, poll_ms(deadline));
      } while (ready < 0 && errno == EINTR);
      if (ready == 0) {
        err = ETIMEDOUT;
      } else {
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
    if (err != 0) {
      last_error = std::strerror(err);
      ::close(fd);
      continue;
    }
    c.fd = fd;
  }
  ::freeaddrinfo(found);
  if (c.fd < 0) throw BridgeError("cannot connect to " + c.peer + ": " + last_error);
  // One small frame per line, and latency is what tests and the load generator measure.
  const int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  if (!tls.enabled) return client;

  ERR_clear_error();
  c.ctx = SSL_CTX_new(TLS_client_method());
  if (c.ctx == nullptr) throw BridgeError("SSL_CTX_new: " + openssl_errors());
  SSL_CTX_set_min_proto_version(c.ctx, TLS1_2_VERSION);
  // A peer that closes without close_notify is a closed connection, not an error.
  SSL_CTX_set_options(c.ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (!tls.pin_sha256.empty()) {
    c.pin.pin = tls.pin_sha256;
    SSL_CTX_set_verify(c.ctx, SSL_VERIFY_PEER, verify_by_pin);
  } else {
    const bool loaded =
        tls.ca_file ? SSL_CTX_load_verify_locations(c.ctx, tls.ca_file->c_str(), nullptr) == 1
                    : SSL_CTX_set_default_verify_paths(c.ctx) == 1;
    if (!loaded) {
      throw BridgeError("cannot load CA certificates" +
                        (tls.ca_file ? " from " + *tls.ca_file : std::string()) + ": " +
                        openssl_errors());
    }
    SSL_CTX_set_verify(c.ctx, SSL_VERIFY_PEER, nullptr);
  }
  c.ssl = SSL_new(c.ctx);
  if (c.ssl == nullptr || SSL_set_fd(c.ssl, c.fd) != 1) {
    throw BridgeError("SSL_new: " + openssl_errors());
  }
  SSL_set_app_data(c.ssl, &c.pin);
  if (!is_ip_literal(host)) SSL_set_tlsext_host_name(c.ssl, host.c_str());
  if (tls.pin_sha256.empty()) {
    const bool name_set = is_ip_literal(host) ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c.ssl),
                                                                              host.c_str()) == 1
                                              : SSL_set1_host(c.ssl, host.c_str()) == 1;
    if (!name_set) throw BridgeError("cannot check the certificate against " + host);
  }

  for (;;) {
    SigpipeGuard guard;
    ERR_clear_error();
    const int r = SSL_connect(c.ssl);
    if (r == 1) break;
    const int saved_errno = errno;
    const int e = SSL_get_error(c.ssl, r);
    bool ready = false;
    if (e == SSL_ERROR_WANT_READ) {
      ready = c.wait(POLLIN, deadline);
    } else if (e == SSL_ERROR_WANT_WRITE) {
      ready = c.wait(POLLOUT, deadline);
    } else {
      throw BridgeError(c.tls_failure("TLS handshake", e, saved_errno));
    }
    if (!ready) {
      throw BridgeError("TLS handshake with " + c.peer + ": no progress within " +
                        ms_text(timeout));
    }
  }
  // Belt and braces: whatever the callback saw, the certificate in use must carry the pin.
  if (!c.pin.pin.empty()) {
    const std::string actual = client.peer_cert_sha256();
    if (actual != c.pin.pin) {
      throw BridgeError("TLS handshake with " + c.peer +
                        ": certificate pin mismatch: the server's certificate has SHA-256 " +
                        (actual.empty() ? std::string("(none)") : actual) + ", expected " +
                        c.pin.pin);
    }
  }
  return client;
}

bool BridgeClient::connected() const noexcept {
  return impl_ && impl_->fd >= 0;
}

const std::string& BridgeClient::peer() const noexcept {
  return impl_->peer;
}

std::string BridgeClient::tls_version() const {
  return impl_->ssl != nullptr ? SSL_get_version(impl_->ssl) : "";
}

std::string BridgeClient::peer_cert_sha256() const {
  if (impl_->ssl == nullptr) return {};
  X509* cert = SSL_get1_peer_certificate(impl_->ssl);
  std::string pin = cert_pin(cert);
  X509_free(cert);
  return pin;
}

void BridgeClient::send(const json& frame, Duration timeout) {
  impl_->write_all(frame.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", timeout);
}

void BridgeClient::send_raw(std::string_view bytes, Duration timeout) {
  impl_->write_all(bytes, timeout);
}

std::optional<std::string> BridgeClient::read_line(Duration timeout) {
  return impl_->read_line(timeout);
}

std::optional<BridgeClient::json> BridgeClient::read(Duration timeout) {
  if (!impl_->kept.empty()) {
    json frame = std::move(impl_->kept.front());
    impl_->kept.pop_front();
    return frame;
  }
  return impl_->read_frame(Clock::now() + timeout);
}

std::optional<BridgeClient::json> BridgeClient::read_until(const Predicate& match,
                                                           Duration timeout) {
  auto& kept = impl_->kept;
  for (auto it = kept.begin(); it != kept.end(); ++it) {
    if (match(*it)) {
      json frame = std::move(*it);
      kept.erase(it);
      return frame;
    }
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto frame = impl_->read_frame(deadline);
    if (!frame) return std::nullopt;
    if (match(*frame)) return frame;
    kept.push_back(std::move(*frame));
  }
}

std::optional<BridgeClient::json> BridgeClient::read_type(const std::string& type,
                                                          Duration timeout) {
  return read_until(
      [&type](const json& f) {
        const auto it = f.find("type");
        return it != f.end() && it->is_string() && it->get_ref<const std::string&>() == type;
      },
      timeout);
}

bool BridgeClient::wait_closed(Duration timeout) {
  impl_->require_open();
  const auto deadline = Clock::now() + timeout;
  try {
    for (;;) {
      const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
      auto line = impl_->read_line(std::max(left, Duration(0)));
      if (!line) return false;
      json frame = json::parse(*line, nullptr, /*allow_exceptions=*/false);
      if (!frame.is_discarded()) impl_->kept.push_back(std::move(frame));
    }
  } catch (const BridgeClosed&) {
    return true;
  }
}

const std::deque<BridgeClient::json>& BridgeClient::kept() const noexcept {
  return impl_->kept;
}

void BridgeClient::clear_kept() {
  impl_->kept.clear();
}

void BridgeClient::shutdown_write() {
  impl_->require_open();
  if (impl_->ssl != nullptr) {
    SigpipeGuard guard;
    ERR_clear_error();
    SSL_shutdown(impl_->ssl);  // sends close_notify; the peer's answer is read as EOF later
    ERR_clear_error();
  }
  ::shutdown(impl_->fd, SHUT_WR);
}

void BridgeClient::close() noexcept {
  if (impl_) impl_->close();
}

BridgeClient::json BridgeClient::hello_frame(const std::string& node_id,
                                             const std::optional<std::string>& token,
                                             const json& extra) {
  json frame = {{"type", "hello"}, {"nodeId", node_id}};
  if (token) frame["token"] = *token;
  if (extra.is_object()) frame.update(extra);
  return frame;
}

BridgeClient::json BridgeClient::pair_request_frame(const std::string& node_id,
                                                    const json& fields) {
  json frame = {{"type", "pair-request"}, {"nodeId", node_id}};
  if (fields.is_object()) frame.update(fields);
  return frame;
}

BridgeClient::json BridgeClient::hello(const std::string& node_id,
                                       const std::optional<std::string>& token, const json& extra,
                                       Duration timeout) {
  send(hello_frame(node_id, token, extra));
  auto answer = read_until(
      [](const json& f) {
        const std::string type = f.is_object() ? f.value("type", "") : "";
        return type == "hello-ok" || type == "error";
      },
      timeout);
  if (!answer) {
    throw BridgeError("no hello-ok or error from " + impl_->peer + " within " + ms_text(timeout) +
                      " after hello");
  }
  return *answer;
}

void BridgeClient::pair_request(const std::string& node_id, const json& fields) {
  send(pair_request_frame(node_id, fields));
}

BridgeClient::json BridgeClient::call(const std::string& method, const json& params,
                                      Duration timeout) {
  const std::string id = "c" + std::to_string(impl_->next_id++);
  json req = {{"type", "req"}, {"id", id}, {"method", method}};
  if (!params.is_null()) req["paramsJSON"] = params.dump();
  send(req);
  auto res = read_until(
      [&id](const json& f) {
        return f.is_object() && f.value("type", "") == "res" && f.contains("id") && f["id"] == id;
      },
      timeout);
  if (!res) {
    throw BridgeError("no res for " + method + " (id " + id + ") from " + impl_->peer + " within " +
                      ms_text(timeout));
  }
  return *res;
}

BridgeClient::json BridgeClient::parse_field(const json& frame, const std::string& key) {
  const auto it = frame.find(key);
  if (it == frame.end() || it->is_null()) return nullptr;
  if (!it->is_string()) throw BridgeError(key + " is not a string: " + it->dump());
  json value = json::parse(it->get_ref<const std::string&>(), nullptr, false);
  if (value.is_discarded()) {
    throw BridgeError(key + " does not hold JSON: " + it->get_ref<const std::string&>());
  }
  return value;
}

std::string cert_sha256_hex(const std::string& pem_file) {
  std::FILE* f = std::fopen(pem_file.c_str(), "r");
  if (f == nullptr) {
    throw std::runtime_error("cannot open " + pem_file + ": " + std::strerror(errno));
  }
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) {
    ERR_clear_error();
    throw std::runtime_error("no PEM certificate in " + pem_file);
  }
  std::string pin = cert_pin(cert);
  X509_free(cert);
  if (pin.empty()) throw std::runtime_error("cannot hash the certificate in " + pem_file);
  return pin;
}

}  // namespace vespid::test
