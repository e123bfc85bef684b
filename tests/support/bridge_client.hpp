// A blocking bridge.v1 client for tests and load generation: TCP, one JSON object per line,
// optional TLS (OpenSSL, TLS 1.2 or later) verified by certificate pin or CA file. It speaks
// the wire only; what the gateway should answer is for the tests to check. Not thread-safe:
// one caller at a time.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vespid::test {

struct TlsOptions {
  bool enabled = false;
  // Lowercase hex (64 digits, no colons) of the SHA-256 of the server certificate's DER. When
  // set, the pin is the whole verification: the chain and the name are not checked, and the
  // handshake fails if the certificate differs.
  std::string pin_sha256;
  // Without a pin: the CA certificates (PEM) to verify the server against, and the server's
  // name or IP address (the host given to connect()) must match its certificate. Without a pin
  // or a CA file, the system's default CA store is used.
  std::optional<std::string> ca_file;
};

// Connecting, the TLS handshake or I/O failed, or the peer sent a line that is not JSON.
class BridgeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The peer closed the connection (an orderly close or a reset) while a line was being read.
class BridgeClosed : public BridgeError {
 public:
  using BridgeError::BridgeError;
};

class BridgeClient {
 public:
  using json = nlohmann::json;
  using Duration = std::chrono::milliseconds;
  using Predicate = std::function<bool(const json&)>;
  static constexpr Duration kDefaultTimeout{10000};

  BridgeClient();
  ~BridgeClient();
  BridgeClient(BridgeClient&&) noexcept;
  BridgeClient& operator=(BridgeClient&&) noexcept;
  BridgeClient(const BridgeClient&) = delete;
  BridgeClient& operator=(const BridgeClient&) = delete;

  // Connects to host:port (a name or an IPv4/IPv6 literal) and, with tls.enabled, completes the
  // TLS handshake, all within `timeout`. Throws BridgeError naming the address and the reason
  // (refused, timed out, "certificate pin mismatch: ...", the TLS alert, ...).
  static BridgeClient connect(const std::string& host, int port, const TlsOptions& tls = {},
                              Duration timeout = kDefaultTimeout);

  bool connected() const noexcept;
  // "host:port", for messages.
  const std::string& peer() const noexcept;
  // After a TLS handshake: the protocol ("TLSv1.3") and the server certificate's SHA-256 pin;
  // empty strings for plain TCP.
  std::string tls_version() const;
  std::string peer_cert_sha256() const;

  // Sends one frame: `frame` as compact JSON and a newline. Throws BridgeError if the peer
  // went away or has not taken the bytes within `timeout` (it stopped reading).
  void send(const json& frame, Duration timeout = kDefaultTimeout);
  // Sends bytes as they are (partial lines, several lines, garbage); throws as send() does.
  void send_raw(std::string_view bytes, Duration timeout = kDefaultTimeout);

  // The next frame: first any kept by read_until() or wait_closed(), then one line from the
  // wire parsed as JSON. Empty lines are skipped. nullopt if nothing arrived within `timeout`.
  // Throws BridgeClosed when the peer closed the connection, BridgeError on a line that is not
  // JSON (the line is consumed) or an I/O error.
  std::optional<json> read(Duration timeout = kDefaultTimeout);
  // One raw line from the wire, without its newline (kept frames are not looked at); nullopt on
  // timeout; throws as read() does.
  std::optional<std::string> read_line(Duration timeout = kDefaultTimeout);

  // The first frame that `match` accepts, looking at kept frames first, then at the wire; frames
  // it does not accept (pings, events) are kept, in order, for later read() calls. nullopt if
  // none matched within `timeout`. Throws as read() does.
  std::optional<json> read_until(const Predicate& match, Duration timeout = kDefaultTimeout);
  // read_until() for a frame whose "type" is `type`.
  std::optional<json> read_type(const std::string& type, Duration timeout = kDefaultTimeout);

  // True if the peer closes the connection within `timeout`. Frames that arrive first are kept
  // for read(); bytes that are not JSON are dropped.
  bool wait_closed(Duration timeout = kDefaultTimeout);

  // Frames kept by read_until() and wait_closed() that read() has not returned yet.
  const std::deque<json>& kept() const noexcept;
  void clear_kept();

  // Half-close: no more bytes from us (TLS: close_notify, then FIN); reading still works.
  void shutdown_write();
  // Closes the connection at once (TLS: without close_notify, as a crashed node would).
  void close() noexcept;

  // ---- bridge.v1 helpers ----

  // {"type":"hello","nodeId":..., "token":... (if given), ...extra}. Fields in `extra` are added
  // as they are (displayName, platform, version, caps, commands, permissions, protocol, ...).
  static json hello_frame(const std::string& node_id, const std::optional<std::string>& token = {},
                          const json& extra = json::object());
  // {"type":"pair-request","nodeId":..., ...fields}.
  static json pair_request_frame(const std::string& node_id, const json& fields = json::object());

  // Sends hello and returns the gateway's answer: the first "hello-ok" or "error" frame (other
  // frames are kept). Throws BridgeError if neither arrives within `timeout`.
  json hello(const std::string& node_id, const std::optional<std::string>& token = {},
             const json& extra = json::object(), Duration timeout = kDefaultTimeout);
  // Sends pair-request. The answer (pair-ok, then hello-ok) comes when an operator approves; wait
  // for it with read_type("pair-ok", ...).
  void pair_request(const std::string& node_id, const json& fields = json::object());

  // Sends {"type":"req","id":<next id>,"method":...,"paramsJSON":<params as a JSON string>}
  // (no paramsJSON when params is null) and returns the matching "res" frame as it came (its
  // payloadJSON still a string; see parse_field()). Other frames are kept. Throws BridgeError
  // if no answer arrives within `timeout`.
  json call(const std::string& method, const json& params = nullptr,
            Duration timeout = kDefaultTimeout);

  // frame[key] (a JSON text, as bridge.v1 carries params and payloads) parsed; null when the
  // field is missing. Throws BridgeError if it is not a string holding JSON.
  static json parse_field(const json& frame, const std::string& key);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Lowercase hex SHA-256 of the DER of the first certificate in a PEM file: the pin that
// TlsOptions::pin_sha256 expects. Throws std::runtime_error if the file holds no certificate.
std::string cert_sha256_hex(const std::string& pem_file);

}  // namespace vespid::test
