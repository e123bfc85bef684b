// The unix transport module, loaded with dlopen and driven by a fake host; the client side is
// the CLI's own operator client.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "fake_host.hpp"
#include "operator_client.hpp"

namespace vespid::unix_transport::testing {
namespace {

using namespace std::chrono_literals;
using cli::ConnectionError;
using cli::OperatorClient;
using ::vespid::testing::FakeConn;

// The shared fake host with this module loaded. Its core echoes every message and, as the
// gateway does, answers a framing error in operator.v1's form before closing.
class FakeHost : public ::vespid::testing::FakeHost {
 public:
  explicit FakeHost(std::string state_dir)
      : ::vespid::testing::FakeHost({.module_path = VESPID_UNIX_PLUGIN_PATH,
                                     .plugin_id = "unix",
                                     .instance_name = "unix",
                                     .state_dir = std::move(state_dir)}) {
    on_message = [this](FakeConn& c, const std::string& m) { send(c, m); };
    on_protocol_error = [this](FakeConn& c, int status, const std::string& message) {
      send(
          c,
          std::string(
              R"({"type":"res","id":null,"ok":false,"error":{"code":"INVALID_REQUEST","message":")") +
              message + "\"}}");
      close(c, status);
    };
  }
};

class UnixTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vespid-unix-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    host_ = std::make_unique<FakeHost>(dir_);
  }
  void TearDown() override {
    host_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start(const std::string& config = "{}") {
    std::string err;
    ASSERT_EQ(host_->create(config, &err), VSP_OK) << err;
    ASSERT_EQ(host_->start(&err), VSP_OK) << err;
  }

  // connect() on a Unix socket completes against the listen backlog, so it needs no loop turn.
  OperatorClient connect() { return OperatorClient::connect(sock()); }

  // Waits for `n` connections to be open on the host side.
  FakeConn* wait_conn(std::size_t n = 1) {
    EXPECT_TRUE(host_->run_until([&] { return host_->conns().size() >= n; }));
    return host_->conns().size() >= n ? host_->conns()[n - 1] : nullptr;
  }

  // Reads one line on a helper thread while the loop runs on this one.
  std::optional<std::string> read_line(OperatorClient& c, std::chrono::milliseconds t = 3s) {
    std::optional<std::string> line;
    std::exception_ptr error;
    std::atomic<bool> done{false};
    std::thread reader([&] {
      try {
        line = c.read_line(t);
      } catch (...) {
        error = std::current_exception();
      }
      done = true;
    });
    host_->run_until([&] { return done.load(); }, t + 500ms);
    reader.join();
    if (error) std::rethrow_exception(error);
    return line;
  }

  std::string sock() const { return dir_ + "/gateway.sock"; }

  int raw_connect() {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, sock().c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }

  std::string dir_;
  std::unique_ptr<FakeHost> host_;
};

TEST_F(UnixTransportTest, SocketFileIsOwnerOnlyAndRemovedOnStop) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(sock().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(host_->stop());
  EXPECT_NE(::access(sock().c_str(), F_OK), 0);
}

TEST_F(UnixTransportTest, ConnectionFactsAndEcho) {
  start();
  auto client = connect();
  FakeConn* c = wait_conn();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->dialect, "operator.v1");
  EXPECT_EQ(c->flags, VSP_CONN_LOCAL_ADMIN);
  EXPECT_EQ(c->peer,
            "unix:uid=" + std::to_string(::getuid()) + ",pid=" + std::to_string(::getpid()));
  EXPECT_EQ(c->local, sock());

  // Two messages and empty lines in one write: each whole line once, empty ones skipped.
  client.send_raw("{\"a\":1}\n\n{\"b\":2}\n");
  EXPECT_EQ(read_line(client), "{\"a\":1}");
  EXPECT_EQ(read_line(client), "{\"b\":2}");
  EXPECT_EQ(host_->received(*c), (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));

  // A message split across writes is delivered whole.
  client.send_raw("{\"split\":");
  host_->run_for(20ms);
  EXPECT_EQ(host_->received(*c).size(), 2u);
  client.send_raw("true}\n");
  EXPECT_EQ(read_line(client), "{\"split\":true}");

  client.close();
  EXPECT_TRUE(host_->run_until([&] { return host_->closed(*c); }));
  EXPECT_TRUE(host_->stop());
}

TEST_F(UnixTransportTest, OversizedLineIsAProtocolErrorAndTheConnectionCloses) {
  start(R"({"max_message_bytes": 16})");
  auto client = connect();
  FakeConn* c = wait_conn();
  client.send_raw(std::string(40, 'x') + "\n{\"never\":1}\n");
  auto line = read_line(client);
  ASSERT_TRUE(line.has_value());
  EXPECT_NE(line->find("message exceeds max_message_bytes (16)"), std::string::npos) << *line;
  EXPECT_EQ(host_->protocol_status(*c), VSP_E_OVERFLOW);
  EXPECT_EQ(host_->protocol_message(*c), "message exceeds max_message_bytes (16)");
  EXPECT_THROW(read_line(client), ConnectionError);  // closed after the answer
  EXPECT_TRUE(host_->run_until([&] { return host_->closed(*c); }));
  EXPECT_TRUE(host_->received(*c).empty());
}

TEST_F(UnixTransportTest, OversizedPartialLineIsCaughtBeforeItsNewline) {
  start(R"({"max_message_bytes": 16})");
  auto client = connect();
  FakeConn* c = wait_conn();
  client.send_raw(std::string(17, 'x'));
  EXPECT_TRUE(host_->run_until([&] { return !host_->protocol_message(*c).empty(); }));
}

TEST_F(UnixTransportTest, SendFromAnotherThreadKeepsOrder) {
  start();
  auto client = connect();
  FakeConn* c = wait_conn();
  host_->on_message = [](FakeConn&, const std::string&) {};
  constexpr int kCount = 2000;
  std::thread sender([&] {
    for (int i = 0; i < kCount; ++i) {
      const int rc = host_->send(*c, "{\"n\":" + std::to_string(i) + "}");
      ASSERT_TRUE(rc == VSP_OK || rc == VSP_E_BUSY) << rc;
    }
  });
  std::vector<std::string> got;
  std::atomic<bool> reader_done{false};
  std::thread reader([&] {
    while (got.size() < kCount) {
      auto line = client.read_line(5s);
      if (!line) break;
      got.push_back(*line);
    }
    reader_done = true;
  });
  host_->run_until([&] { return reader_done.load(); }, 10s);
  sender.join();
  reader.join();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(got[i], "{\"n\":" + std::to_string(i) + "}");
}

TEST_F(UnixTransportTest, SlowReaderOverflowsAndIsDropped) {
  start(R"({"send_queue_bytes": 65536})");
  auto client = connect();
  FakeConn* c = wait_conn();
  const std::string big(4000, 'y');
  int rc = VSP_OK;
  bool saw_busy = false;
  // The client never reads: the kernel buffer fills, then the queue, then the hard limit.
  for (int i = 0; i < 10000 && rc != VSP_E_OVERFLOW; ++i) {
    rc = host_->send(*c, big);
    saw_busy = saw_busy || rc == VSP_E_BUSY;
    host_->run_for(0ms);
  }
  EXPECT_TRUE(saw_busy);
  EXPECT_EQ(rc, VSP_E_OVERFLOW);
  EXPECT_EQ(host_->send(*c, big), VSP_E_CLOSED);
  EXPECT_TRUE(host_->run_until([&] { return host_->closed(*c); }));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_OVERFLOW);
}

TEST_F(UnixTransportTest, BusyThenWritableOnceDrained) {
  start(R"({"send_queue_bytes": 1048576})");
  auto client = connect();
  FakeConn* c = wait_conn();
  const std::string big(100000, 'z');
  int rc = VSP_OK;
  for (int i = 0; i < 100 && rc != VSP_E_BUSY; ++i) rc = host_->send(*c, big);
  ASSERT_EQ(rc, VSP_E_BUSY);
  std::size_t bytes = 0;
  std::thread reader([&] {
    while (host_->writable_calls(*c) == 0) {
      auto line = client.read_line(200ms);
      if (line) bytes += line->size();
    }
  });
  EXPECT_TRUE(host_->run_until([&] { return host_->writable_calls(*c) > 0; }));
  reader.join();
  EXPECT_FALSE(host_->closed(*c));
}

TEST_F(UnixTransportTest, CloseFlushesThenReportsClosedOnce) {
  start();
  auto client = connect();
  FakeConn* c = wait_conn();
  host_->send(*c, "{\"last\":1}");
  host_->close(*c, VSP_E_PERMISSION);
  host_->close(*c);  // a second close is harmless
  EXPECT_EQ(host_->send(*c, "{\"late\":1}"), VSP_E_CLOSED);
  EXPECT_EQ(read_line(client), "{\"last\":1}");
  EXPECT_THROW(read_line(client), ConnectionError);
  EXPECT_TRUE(host_->run_until([&] { return host_->closed(*c); }));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_PERMISSION);
}

TEST_F(UnixTransportTest, HalfCloseStillGetsTheAnswer) {
  start();
  host_->on_message = [](FakeConn&, const std::string&) {};  // answer later, by hand
  const int fd = raw_connect();
  FakeConn* c = wait_conn();
  // The last request without a newline, then no more input (as `printf ... | socat` does).
  ASSERT_EQ(::write(fd, "{\"q\":1}", 7), 7);
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  EXPECT_TRUE(host_->run_until([&] { return host_->received(*c).size() == 1; }));
  EXPECT_EQ(host_->received(*c).at(0), "{\"q\":1}");
  host_->run_for(100ms);  // the answer takes a while; the connection must still be there
  ASSERT_FALSE(host_->closed(*c));
  EXPECT_EQ(host_->send(*c, "{\"a\":1}"), VSP_OK);
  std::string got;
  host_->run_until([&] {
    char buf[64];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    return got.find('\n') != std::string::npos;
  });
  EXPECT_EQ(got, "{\"a\":1}\n");
  ::close(fd);  // now fully gone: the transport notices without waiting out its linger
  EXPECT_TRUE(host_->run_until([&] { return host_->closed(*c); }, 2s));
}

TEST_F(UnixTransportTest, MaxConnectionsRefusesTheExtraOne) {
  start(R"({"max_connections": 1})");
  auto first = connect();
  wait_conn();
  auto second = connect();
  EXPECT_THROW(read_line(second), ConnectionError);
  EXPECT_EQ(host_->conns().size(), 1u);
  bool warned = false;
  for (const auto& l : host_->logs())
    warned = warned || l.find("max_connections (1)") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST_F(UnixTransportTest, RefusedOpenClosesTheSocket) {
  start();
  host_->refuse_opens = true;
  auto client = connect();
  EXPECT_THROW(read_line(client), ConnectionError);
  EXPECT_TRUE(host_->conns().empty());
}

TEST_F(UnixTransportTest, StopClosesConnectionsBeforeDone) {
  start();
  auto a = connect();
  auto b = connect();
  wait_conn(2);
  EXPECT_TRUE(host_->stop());
  for (auto* c : host_->conns()) EXPECT_TRUE(host_->closed(*c));
}

TEST_F(UnixTransportTest, StaleSocketFileIsReplaced) {
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, sock().c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);  // bound, never listened: what a crashed gateway leaves behind
  }
  start();
  auto client = connect();
  EXPECT_NE(wait_conn(), nullptr);
}

TEST_F(UnixTransportTest, LiveSocketIsNotStolen) {
  start();
  FakeHost second(dir_);
  std::string err;
  ASSERT_EQ(second.create("{}", &err), VSP_OK) << err;
  EXPECT_EQ(second.start(&err), VSP_E_ADDR_IN_USE);
  EXPECT_EQ(err, "unix: another process is listening on " + sock());
  second.destroy();
  // The first one's socket is untouched.
  auto client = connect();
  EXPECT_NE(wait_conn(), nullptr);
}

TEST_F(UnixTransportTest, RegularFileAtThePathIsNotRemoved) {
  std::FILE* f = std::fopen(sock().c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  std::string err;
  ASSERT_EQ(host_->create("{}", &err), VSP_OK);
  EXPECT_NE(host_->start(&err), VSP_OK);
  EXPECT_NE(err.find("is not a socket"), std::string::npos) << err;
  EXPECT_EQ(::access(sock().c_str(), F_OK), 0);
}

TEST_F(UnixTransportTest, TooLongPathIsNamed) {
  const std::string path = "/tmp/" + std::string(120, 'p') + "/gateway.sock";
  std::string err;
  ASSERT_EQ(host_->create(R"({"path": ")" + path + "\"}", &err), VSP_OK) << err;
  EXPECT_EQ(host_->start(&err), VSP_E_INVALID);
  EXPECT_NE(err.find(path), std::string::npos) << err;
}

TEST_F(UnixTransportTest, ConfigErrorsNameTheKey) {
  std::string err;
  EXPECT_EQ(host_->create(R"({"max_connection": 3})", &err), VSP_E_INVALID);
  EXPECT_NE(err.find("unknown config key \"max_connection\""), std::string::npos) << err;
  EXPECT_EQ(host_->create(R"({"max_connections": "3"})", &err), VSP_E_INVALID);
  EXPECT_NE(err.find("\"max_connections\" must be a positive integer"), std::string::npos) << err;
  EXPECT_EQ(host_->create(R"({"send_queue_bytes": 0})", &err), VSP_E_INVALID);
  EXPECT_NE(err.find("send_queue_bytes"), std::string::npos) << err;
  EXPECT_EQ(host_->create(R"({"path": 7})", &err), VSP_E_INVALID);
  EXPECT_NE(err.find("\"path\" must be a non-empty string"), std::string::npos) << err;
  EXPECT_EQ(host_->create(R"([1])", &err), VSP_E_INVALID);
}

TEST_F(UnixTransportTest, RelativePathIsUnderTheStateDir) {
  start(R"({"path": "admin.sock"})");
  struct stat st {};
  EXPECT_EQ(::stat((dir_ + "/admin.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace vespid::unix_transport::testing
