// BridgeClient against peers it did not write: socat as a line echo over plain TCP and over TLS,
// and openssl s_server offering only TLS 1.1. The echo turns every frame the client sends into a
// frame it receives, so framing, keeping skipped frames, the handshake helpers, pinning and
// close detection can all be checked without a gateway. Loopback only.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bridge_client.hpp"
#include "gateway_process.hpp"  // pick_free_port
#include "process.hpp"
#include "skip_or_fail.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

bool in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

bool tcp_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A server program on 127.0.0.1:port for the length of a test; its output goes to a log file
// that failure messages quote.
class Peer {
 public:
  Peer() = default;
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  ~Peer() { stop(); }

  // Starts argv and waits until the port accepts connections (the server must accept more than
  // one: the probe is a connection too).
  ::testing::AssertionResult start(const std::vector<std::string>& argv, int port,
                                   const std::string& log_path) {
    log_ = log_path;
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = spawn(argv, {}, devnull, log_fd, log_fd);
    ::close(log_fd);
    ::close(devnull);
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline) {
      if (tcp_accepts(port)) return ::testing::AssertionSuccess();
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return ::testing::AssertionFailure() << argv[0] << " exited: " << read_file(log_);
      }
      std::this_thread::sleep_for(10ms);
    }
    return ::testing::AssertionFailure()
           << argv[0] << " not listening on " << port << " after 10 s: " << read_file(log_);
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = Clock::now() + 5s;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
    pid_ = -1;
  }

  std::string log() const { return read_file(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

// A self-signed P-256 certificate for 127.0.0.1 and localhost: <dir>/<name>.crt and .key.
::testing::AssertionResult make_cert(const TempDir& dir, const std::string& name) {
  CommandResult r =
      run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                   "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout",
                   dir.file(name + ".key"), "-out", dir.file(name + ".crt")});
  if (r.exit_code != 0) return ::testing::AssertionFailure() << "openssl req: " << r.err;
  return ::testing::AssertionSuccess();
}

// ---- plain TCP ----

class PlainEcho : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!in_path("socat")) VESPID_SKIP_UNLESS_CI("socat is not installed");
    port_ = pick_free_port();
    // PIPE: every byte read from a connection is written back to it. fork: one child per
    // connection, so the readiness probe does not use the server up.
    ASSERT_TRUE(echo_.start(
        {"socat", "TCP-LISTEN:" + std::to_string(port_) + ",bind=127.0.0.1,reuseaddr,fork", "PIPE"},
        port_, dir_.file("socat.log")));
  }

  BridgeClient connect() { return BridgeClient::connect("127.0.0.1", port_); }

  TempDir dir_{"bridge-selftest"};
  int port_ = 0;
  Peer echo_;
};

TEST_F(PlainEcho, FrameGoesOutAsOneLineAndComesBackParsed) {
  BridgeClient c = connect();
  EXPECT_TRUE(c.connected());
  EXPECT_EQ(c.peer(), "127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(c.tls_version(), "");
  const json frame = {{"type", "event"},
                      {"event", "voice.transcript"},
                      {"payloadJSON", R"({"text":"h\u00e9llo\nworld"})"}};
  c.send(frame);
  auto line = c.read_line(5s);
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, frame.dump()) << "one compact line, the newline inside a string escaped";
  c.send(frame);
  auto back = c.read(5s);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, frame);
  EXPECT_EQ(BridgeClient::parse_field(*back, "payloadJSON")["text"], "h\u00e9llo\nworld");
  EXPECT_TRUE(BridgeClient::parse_field(*back, "missing").is_null());
}

TEST_F(PlainEcho, LinesSplitAndJoinedAnyWayAreFramedRight) {
  BridgeClient c = connect();
  c.send_raw(
      "{\"type\":\"ping\",\"id\":\"1\"}\n\n{\"type\":\"ping\",\"id\":\"2\"}\r\n{\"type\":\"po");
  auto a = c.read(5s);
  auto b = c.read(5s);
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)["id"], "1");
  EXPECT_EQ((*b)["id"], "2") << "CRLF tolerated, empty lines skipped";
  const auto t0 = Clock::now();
  EXPECT_FALSE(c.read(200ms)) << "half a line is not a frame";
  EXPECT_GE(Clock::now() - t0, 190ms);
  c.send_raw("ng\",\"id\":\"3\"}\n");
  auto rest = c.read(5s);
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, json({{"type", "pong"}, {"id", "3"}}));
}

TEST_F(PlainEcho, ReadUntilKeepsWhatItSkipsInOrder) {
  BridgeClient c = connect();
  c.send({{"type", "ping"}, {"id", "p1"}});
  c.send({{"type", "event"}, {"event", "tick"}});
  c.send({{"type", "hello-ok"}, {"serverName", "gw"}});
  c.send({{"type", "ping"}, {"id", "p2"}});
  auto ok = c.read_type("hello-ok", 5s);
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["serverName"], "gw");
  ASSERT_EQ(c.kept().size(), 2u);
  // A kept frame can be asked for again.
  auto tick = c.read_type("event", 5s);
  ASSERT_TRUE(tick);
  EXPECT_EQ((*tick)["event"], "tick");
  EXPECT_EQ(c.read(5s)->at("id"), "p1");
  EXPECT_EQ(c.read(5s)->at("id"), "p2") << "then the wire";
  EXPECT_FALSE(c.read_type("nothing", 200ms));
  c.clear_kept();
  EXPECT_TRUE(c.kept().empty());
}

TEST_F(PlainEcho, HandshakeHelpersSendTheBridgeFrames) {
  BridgeClient c = connect();
  // The echo answers hello with whatever was sent before it: queue the gateway's answer first.
  c.send({{"type", "error"}, {"code", "NOT_PAIRED"}, {"message", "pair first"}});
  json answer = c.hello("ios-1", std::nullopt, {{"displayName", "Phone"}, {"caps", {"camera"}}});
  EXPECT_EQ(answer["type"], "error");
  EXPECT_EQ(answer["code"], "NOT_PAIRED");
  auto hello = c.read_type("hello", 5s);
  ASSERT_TRUE(hello) << "the echoed hello";
  EXPECT_EQ(*hello, json({{"type", "hello"},
                          {"nodeId", "ios-1"},
                          {"displayName", "Phone"},
                          {"caps", {"camera"}}}));

  c.pair_request("ios-1", {{"platform", "iOS"}, {"silent", true}});
  auto pr = c.read(5s);
  ASSERT_TRUE(pr);
  EXPECT_EQ(
      *pr,
      json({{"type", "pair-request"}, {"nodeId", "ios-1"}, {"platform", "iOS"}, {"silent", true}}));

  EXPECT_EQ(BridgeClient::hello_frame("n", std::string("tok"))["token"], "tok");

  // call(): the first request id is c1; queue its res, then the echoed req is kept.
  c.send({{"type", "res"}, {"id", "c1"}, {"ok", true}, {"payloadJSON", R"({"ok":true})"}});
  json res = c.call("health", {{"probe", 1}}, 5s);
  EXPECT_EQ(res["id"], "c1");
  EXPECT_EQ(BridgeClient::parse_field(res, "payloadJSON")["ok"], true);
  auto req = c.read_type("req", 5s);
  ASSERT_TRUE(req);
  EXPECT_EQ((*req)["method"], "health");
  ASSERT_TRUE((*req)["paramsJSON"].is_string()) << "bridge.v1 carries params as a JSON string";
  EXPECT_EQ(BridgeClient::parse_field(*req, "paramsJSON"), json({{"probe", 1}}));
  EXPECT_THROW(c.call("never", nullptr, 200ms), BridgeError);
}

TEST_F(PlainEcho, HelloWithoutAnAnswerThrows) {
  BridgeClient c = connect();
  try {
    c.hello("n1", std::nullopt, json::object(), 300ms);
    ADD_FAILURE() << "no throw";
  } catch (const BridgeError& e) {
    EXPECT_NE(std::string(e.what()).find("no hello-ok or error"), std::string::npos) << e.what();
  }
}

TEST_F(PlainEcho, ALineThatIsNotJsonThrowsAndIsConsumed) {
  BridgeClient c = connect();
  c.send_raw("not json\n{\"type\":\"pong\"}\n");
  try {
    c.read(5s);
    ADD_FAILURE() << "no throw";
  } catch (const BridgeClosed&) {
    ADD_FAILURE() << "not a close";
  } catch (const BridgeError& e) {
    EXPECT_NE(std::string(e.what()).find("not JSON: not json"), std::string::npos) << e.what();
  }
  auto next = c.read(5s);
  ASSERT_TRUE(next);
  EXPECT_EQ((*next)["type"], "pong");
}

TEST_F(PlainEcho, PeerCloseIsSeenAndFramesBeforeItAreKept) {
  BridgeClient c = connect();
  c.send({{"type", "ping"}, {"id", "last"}});
  // Our half-close: socat echoes what it has, then closes its side too.
  c.shutdown_write();
  EXPECT_TRUE(c.wait_closed(5s)) << echo_.log();
  ASSERT_EQ(c.kept().size(), 1u);
  EXPECT_EQ(c.read(1s)->at("id"), "last");
  try {
    c.read(1s);
    ADD_FAILURE() << "no throw after the close";
  } catch (const BridgeClosed& e) {
    EXPECT_NE(std::string(e.what()).find("closed the connection"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(c.wait_closed(100ms)) << "still closed";
}

TEST_F(PlainEcho, AnOpenConnectionIsNotClosed) {
  BridgeClient c = connect();
  EXPECT_FALSE(c.wait_closed(200ms));
  c.close();
  EXPECT_FALSE(c.connected());
  EXPECT_THROW(c.send({{"type", "ping"}}), BridgeError);
}

TEST(BridgeConnect, RefusedConnectionNamesTheAddress) {
  const int port = pick_free_port();
  try {
    BridgeClient::connect("127.0.0.1", port);
    ADD_FAILURE() << "connected to a port nobody listens on";
  } catch (const BridgeError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << e.what();
  }
}

// ---- TLS ----

class TlsEcho : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!in_path("socat") || !in_path("openssl")) VESPID_SKIP_UNLESS_CI("needs socat and openssl");
    ASSERT_TRUE(make_cert(dir_, "server"));
    ASSERT_TRUE(make_cert(dir_, "other"));
    port_ = pick_free_port();
    ASSERT_TRUE(echo_.start({"socat",
                             "OPENSSL-LISTEN:" + std::to_string(port_) +
                                 ",bind=127.0.0.1,reuseaddr,fork,verify=0,cert=" +
                                 dir_.file("server.crt") + ",key=" + dir_.file("server.key"),
                             "PIPE"},
                            port_, dir_.file("socat.log")));
  }

  TlsOptions pinned(const std::string& pin) {
    TlsOptions tls;
    tls.enabled = true;
    tls.pin_sha256 = pin;
    return tls;
  }

  TempDir dir_{"bridge-selftest"};
  int port_ = 0;
  Peer echo_;
};

TEST_F(TlsEcho, PinMatchesOpensslsOwnFingerprint) {
  CommandResult r = run_command(
      {"openssl", "x509", "-in", dir_.file("server.crt"), "-noout", "-fingerprint", "-sha256"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // "sha256 Fingerprint=AB:CD:..." (the label's case varies between versions)
  std::string expected = r.out.substr(r.out.find('=') + 1);
  expected.erase(std::remove_if(expected.begin(), expected.end(),
                                [](char ch) { return ch == ':' || ch == '\n'; }),
                 expected.end());
  std::transform(expected.begin(), expected.end(), expected.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  EXPECT_EQ(cert_sha256_hex(dir_.file("server.crt")), expected);
  EXPECT_EQ(expected.size(), 64u);
  EXPECT_THROW(cert_sha256_hex(dir_.file("server.key")), std::runtime_error);
  EXPECT_THROW(cert_sha256_hex(dir_.file("absent.crt")), std::runtime_error);
}

TEST_F(TlsEcho, PinnedConnectionCarriesFramesBothWays) {
  const std::string pin = cert_sha256_hex(dir_.file("server.crt"));
  BridgeClient c = BridgeClient::connect("127.0.0.1", port_, pinned(pin));
  EXPECT_TRUE(c.tls_version() == "TLSv1.3" || c.tls_version() == "TLSv1.2") << c.tls_version();
  EXPECT_EQ(c.peer_cert_sha256(), pin);

  c.send({{"type", "ping"}, {"id", "1"}});
  auto back = c.read(5s);
  ASSERT_TRUE(back) << echo_.log();
  EXPECT_EQ((*back)["id"], "1");

  // Bigger than one TLS record and one read: partial writes and reads.
  const std::string big(256 * 1024, 'x');
  c.send({{"type", "event"}, {"event", "big"}, {"payloadJSON", big}});
  c.send({{"type", "ping"}, {"id", "2"}});
  auto big_back = c.read(10s);
  ASSERT_TRUE(big_back);
  EXPECT_EQ((*big_back)["payloadJSON"].get<std::string>().size(), big.size());
  EXPECT_EQ(c.read(5s)->at("id"), "2");

  EXPECT_FALSE(c.read(200ms));
  c.shutdown_write();
  EXPECT_TRUE(c.wait_closed(5s)) << echo_.log();
  EXPECT_THROW(c.read(1s), BridgeClosed);
}

TEST_F(TlsEcho, WrongPinFailsTheHandshakeSayingWhy) {
  const std::string right = cert_sha256_hex(dir_.file("server.crt"));
  const std::string wrong = cert_sha256_hex(dir_.file("other.crt"));
  try {
    BridgeClient::connect("127.0.0.1", port_, pinned(wrong));
    ADD_FAILURE() << "connected despite a pin mismatch";
  } catch (const BridgeError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("certificate pin mismatch"), std::string::npos) << what;
    EXPECT_NE(what.find(right), std::string::npos) << what;
    EXPECT_NE(what.find(wrong), std::string::npos) << what;
  }
}

TEST_F(TlsEcho, MalformedPinIsRefusedBeforeConnecting) {
  const std::string pin = cert_sha256_hex(dir_.file("server.crt"));
  std::string upper = pin;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  for (const std::string& bad : {upper, pin.substr(1), std::string("zz") + pin.substr(2)}) {
    try {
      BridgeClient::connect("127.0.0.1", port_, pinned(bad));
      ADD_FAILURE() << "accepted pin " << bad;
    } catch (const BridgeError& e) {
      EXPECT_NE(std::string(e.what()).find("64 lowercase hex digits"), std::string::npos)
          << e.what();
    }
  }
}

TEST_F(TlsEcho, CaFileVerifiesChainAndName) {
  TlsOptions tls;
  tls.enabled = true;
  tls.ca_file = dir_.file("server.crt");
  {
    BridgeClient c = BridgeClient::connect("127.0.0.1", port_, tls);
    c.send({{"type", "ping"}});
    EXPECT_TRUE(c.read(5s));
  }
  {
    // A name: checked against the DNS entry; localhost may resolve to ::1 first, where nothing
    // listens, and the next address is tried.
    BridgeClient c = BridgeClient::connect("localhost", port_, tls);
    c.send({{"type", "ping"}});
    EXPECT_TRUE(c.read(5s));
  }

  tls.ca_file = dir_.file("other.crt");
  try {
    BridgeClient::connect("127.0.0.1", port_, tls);
    ADD_FAILURE() << "verified against the wrong CA";
  } catch (const BridgeError& e) {
    EXPECT_NE(std::string(e.what()).find("certificate verification failed"), std::string::npos)
        << e.what();
  }

  // Neither pin nor CA file: the system store, which does not know a self-signed certificate.
  TlsOptions system_store;
  system_store.enabled = true;
  EXPECT_THROW(BridgeClient::connect("127.0.0.1", port_, system_store), BridgeError);
}

TEST(BridgeTls, RefusesAServerOfferingLessThanTls12) {
  if (!in_path("openssl")) VESPID_SKIP_UNLESS_CI("openssl is not installed");
  TempDir dir("bridge-selftest");
  ASSERT_TRUE(make_cert(dir, "old"));
  const int port = pick_free_port();
  Peer server;
  // SECLEVEL=0 lets OpenSSL 3 speak TLS 1.1 at all.
  ASSERT_TRUE(server.start({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                            "-cert", dir.file("old.crt"), "-key", dir.file("old.key"), "-tls1_1",
                            "-cipher", "DEFAULT:@SECLEVEL=0", "-quiet"},
                           port, dir.file("s_server.log")));
  try {
    BridgeClient::connect("127.0.0.1", port, {true, cert_sha256_hex(dir.file("old.crt")), {}}, 5s);
    ADD_FAILURE() << "a TLS 1.1 handshake succeeded";
  } catch (const BridgeError& e) {
    // The server's alert: our hello offered nothing below TLS 1.2.
    EXPECT_NE(std::string(e.what()).find("TLS handshake with 127.0.0.1"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("protocol version"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vespid::test
