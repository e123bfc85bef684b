// The fixture every ws test uses: a fake host with the module loaded and started on an
// ephemeral loopback port, and the TLS files (a CA and a server certificate made with the
// openssl CLI) for the TLS tests.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "clients.hpp"
#include "fake_host.hpp"

namespace vespid::ws::testing {

using ::vespid::testing::FakeConn;

// A rest.v1 request as the plugin passes it (VSP_CONN_REST_RAW_BODY: the envelope, a newline,
// the body's bytes) read back into one object, the body as its "body" string. Fails the test
// (and returns null) when the message is not of that form.
nlohmann::json read_rest_envelope(const std::string& message);

// The shared fake host with this module loaded. Its core answers rest.v1 requests with a 200
// that echoes the envelope (read_rest_envelope) as the body, and a framing error with an `error`
// message before it closes. The ws transport runs its own threads and timers: host timers and
// watches are violations here.
class FakeHost : public ::vespid::testing::FakeHost {
 public:
  FakeHost();
  uint16_t port();  // from the "listening on" log line
};

struct TlsFiles {
  std::string dir, ca_pem, cert_pem, key_pem;
};
// Made once per test run in a temporary directory.
const TlsFiles& tls_files();

class WsTest : public ::testing::Test {
 protected:
  void SetUp() override { host_ = std::make_unique<FakeHost>(); }
  void TearDown() override;

  // Creates and starts an instance; "port": 0 unless the config says otherwise.
  void start(nlohmann::json config = nlohmann::json::object());

  std::unique_ptr<Peer> peer(std::shared_ptr<boost::asio::ssl::context> tls = nullptr,
                             int rcvbuf = 0);
  // A connected WebSocket peer on `target`, admitted (the default inline admission).
  std::unique_ptr<Peer> ws_peer(const std::string& target = "/ws", const Headers& headers = {});

  std::unique_ptr<FakeHost> host_;
  uint16_t port_ = 0;
};

// A blocking socket connected to 127.0.0.1:port (or -1), with a 5 s receive timeout: a server
// that answers nothing must not hang the test.
inline int connect_loopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// prefix + number. ("t" + std::to_string(i) trips GCC 12's -Wrestrict false positive at -O3,
// GCC bug 105329.)
inline std::string numbered(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

}  // namespace vespid::ws::testing
