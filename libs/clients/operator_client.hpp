// A small blocking client for operator.v1 over the gateway's Unix socket: one JSON object per
// line, requests answered by id, server events interleaved. Used by the `vespid` CLI and by the
// integration tests. Not thread-safe: one caller at a time.
#pragma once

#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace vespid::cli {

// The gateway answered a request with ok:false.
class OperatorError : public std::runtime_error {
 public:
  OperatorError(std::string code, std::string message, nlohmann::json details)
      : std::runtime_error(code + ": " + message),
        code(std::move(code)),
        message(std::move(message)),
        details(std::move(details)) {}

  std::string code;        // INVALID_REQUEST, NOT_FOUND, ...
  std::string message;     // human-readable
  nlohmann::json details;  // null when the gateway sent none
};

// The gateway could not be reached, went away, sent something that is not operator.v1, or did
// not answer in time. what() is a complete sentence for the user.
class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OperatorClient {
 public:
  using Duration = std::chrono::milliseconds;
  static constexpr Duration kDefaultTimeout{30000};

  OperatorClient() = default;
  ~OperatorClient();
  OperatorClient(OperatorClient&& other) noexcept;
  OperatorClient& operator=(OperatorClient&& other) noexcept;
  OperatorClient(const OperatorClient&) = delete;
  OperatorClient& operator=(const OperatorClient&) = delete;

  // Connects to the socket at `socket_path`. `state_dir` only improves the error message (it
  // defaults to the socket's directory). Throws ConnectionError:
  //   "cannot reach the gateway at <path>: <reason>; is vespid-gateway running? (state dir: <dir>)"
  static OperatorClient connect(const std::string& socket_path, const std::string& state_dir = {});

  bool connected() const noexcept { return fd_ >= 0; }
  void close() noexcept;

  // Sends one request and waits for its response. Returns the payload (an empty object when the
  // gateway sent none) or throws OperatorError. Events that arrive meanwhile are kept for
  // read_event(). Throws ConnectionError on I/O failure or timeout.
  nlohmann::json call(const std::string& method,
                      const nlohmann::json& params = nlohmann::json::object(),
                      Duration timeout = kDefaultTimeout);

  // Returns the next server event ({"type":"event","event":...,"payload":...,"seq"?}), or nullopt
  // if none arrived within `timeout`.
  std::optional<nlohmann::json> read_event(Duration timeout);

  // Low level, for tests that speak the wire directly: write raw bytes, read one raw line
  // (without its newline; nullopt on timeout; throws ConnectionError when the peer closed).
  void send_raw(const std::string& bytes);
  std::optional<std::string> read_line(Duration timeout);

 private:
  explicit OperatorClient(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  nlohmann::json read_message(std::chrono::steady_clock::time_point deadline, bool* timed_out);

  int fd_ = -1;
  std::string path_;
  std::string inbuf_;
  std::deque<nlohmann::json> events_;
  unsigned long next_id_ = 1;
};

}  // namespace vespid::cli
