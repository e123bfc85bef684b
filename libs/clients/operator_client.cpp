#include "operator_client.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace vespid::cli {

namespace {

using Clock = std::chrono::steady_clock;

// Far above any sane answer (a list of every user of a big org), low enough that a confused
// peer streaming garbage cannot eat the machine.
constexpr std::size_t kMaxLineBytes = 64u << 20;

std::string dirname_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

int poll_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

std::string seconds_text(OperatorClient::Duration d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

OperatorClient::~OperatorClient() {
  close();
}

OperatorClient::OperatorClient(OperatorClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      inbuf_(std::move(other.inbuf_)),
      events_(std::move(other.events_)),
      next_id_(other.next_id_) {}

OperatorClient& OperatorClient::operator=(OperatorClient&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    inbuf_ = std::move(other.inbuf_);
    events_ = std::move(other.events_);
    next_id_ = other.next_id_;
  }
  return *this;
}

void OperatorClient::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

OperatorClient OperatorClient::connect(const std::string& socket_path,
                                       const std::string& state_dir) {
  const std::string dir = state_dir.empty() ? dirname_of(socket_path) : state_dir;
  auto fail = [&](const std::string& reason) -> ConnectionError {
    return ConnectionError("cannot reach the gateway at " + socket_path + ": " + reason +
                           "; is vespid-gateway running? (state dir: " + dir + ")");
  };

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    throw fail("the path is longer than a Unix socket allows (" +
               std::to_string(sizeof addr.sun_path - 1) + " bytes)");
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw fail(std::string("socket() failed: ") + std::strerror(errno));
  // Connecting to a Unix socket never waits for the network, so a blocking connect is fine;
  // every read and write after it is bounded by poll() and a deadline.
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    throw fail(std::strerror(err));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return OperatorClient(fd, socket_path);
}

void OperatorClient::send_raw(const std::string& bytes) {
  if (fd_ < 0) throw ConnectionError("not connected to the gateway");
  const auto deadline = Clock::now() + kDefaultTimeout;
  std::size_t off = 0;
  while (off < bytes.size()) {
    // MSG_NOSIGNAL: a gateway that went away is an error to report, not a SIGPIPE.
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n >= 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      throw ConnectionError("lost the connection to the gateway at " + path_ + ": " +
                            std::strerror(errno));
    }
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, poll_ms(deadline)) == 0) {
      throw ConnectionError("the gateway at " + path_ + " is not reading its socket");
    }
  }
}

std::optional<std::string> OperatorClient::read_line(Duration timeout) {
  if (fd_ < 0) throw ConnectionError("not connected to the gateway");
  const auto deadline = Clock::now() + timeout;
  std::size_t scanned = 0;
  for (;;) {
    const auto nl = inbuf_.find('\n', scanned);
    if (nl != std::string::npos) {
      std::string line = inbuf_.substr(0, nl);
      inbuf_.erase(0, nl + 1);
      return line;
    }
    scanned = inbuf_.size();
    if (inbuf_.size() > kMaxLineBytes) {
      throw ConnectionError("the gateway sent a line longer than " + std::to_string(kMaxLineBytes) +
                            " bytes");
    }

    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, poll_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return std::nullopt;

    char buf[65536];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      inbuf_.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      throw ConnectionError("the gateway closed the connection");
    } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
      throw ConnectionError("lost the connection to the gateway at " + path_ + ": " +
                            std::strerror(errno));
    }
  }
}

nlohmann::json OperatorClient::read_message(Clock::time_point deadline, bool* timed_out) {
  *timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
    auto line = read_line(left.count() > 0 ? left : Duration(0));
    if (!line) {
      *timed_out = true;
      return nullptr;
    }
    if (line->empty()) continue;
    auto msg = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
    if (msg.is_discarded() || !msg.is_object()) {
      throw ConnectionError("the gateway sent something that is not an operator.v1 message: " +
                            line->substr(0, 200));
    }
    return msg;
  }
}

nlohmann::json OperatorClient::call(const std::string& method, const nlohmann::json& params,
                                    Duration timeout) {
  const std::string id = std::to_string(next_id_++);
  const nlohmann::json req = {{"type", "req"}, {"id", id}, {"method", method}, {"params", params}};
  // Replace, not throw, on invalid UTF-8 from the command line: the gateway will say what is
  // wrong with the value better than a serialiser exception would.
  send_raw(req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");

  const auto deadline = Clock::now() + timeout;
  for (;;) {
    bool timed_out = false;
    nlohmann::json msg = read_message(deadline, &timed_out);
    if (timed_out) {
      throw ConnectionError("the gateway did not answer " + method + " within " +
                            seconds_text(timeout));
    }
    const std::string type = msg.value("type", "");
    if (type == "event") {
      events_.push_back(std::move(msg));
      continue;
    }
    if (type != "res" || !msg.contains("id") || msg["id"] != id) continue;

    if (msg.value("ok", false)) {
      auto it = msg.find("payload");
      return it == msg.end() || it->is_null() ? nlohmann::json::object() : std::move(*it);
    }
    const nlohmann::json error = msg.value("error", nlohmann::json::object());
    throw OperatorError(error.value("code", "INTERNAL"),
                        error.value("message", "the gateway gave no message"),
                        error.value("details", nlohmann::json()));
  }
}

std::optional<nlohmann::json> OperatorClient::read_event(Duration timeout) {
  if (!events_.empty()) {
    nlohmann::json ev = std::move(events_.front());
    events_.pop_front();
    return ev;
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    bool timed_out = false;
    nlohmann::json msg = read_message(deadline, &timed_out);
    if (timed_out) return std::nullopt;
    if (msg.value("type", "") == "event") return msg;
  }
}

}  // namespace vespid::cli
