// The bridge module, loaded with dlopen and driven by a fake host, against real sockets on
// 127.0.0.1 (ephemeral ports only).
#include <gtest/gtest.h>
#include <malloc.h>
#include <openssl/ssl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "fake_host.hpp"
#include "skip_or_fail.hpp"
#include "test_client.hpp"

namespace vespid::bridge::testing {
namespace {

using namespace std::chrono_literals;
using End = LineClient::End;
using ::vespid::testing::FakeConn;

// The shared fake host with this module loaded; `gateway_config` answers config_get. The bridge
// keeps every connection on one I/O thread, which the host checks.
class FakeHost : public ::vespid::testing::FakeHost {
 public:
  explicit FakeHost(std::map<std::string, std::string> gateway_config = {},
                    std::string state_dir = "/nonexistent-vespid-state")
      : ::vespid::testing::FakeHost({.module_path = VESPID_BRIDGE_PLUGIN_PATH,
                                     .plugin_id = "bridge",
                                     .module_name = "vespid-bridge",
                                     .instance_name = "bridge",
                                     .state_dir = std::move(state_dir),
                                     .one_thread_per_conn = true}) {
    config = std::move(gateway_config);
  }
};

// One malloc arena for every thread, set before any thread exists, so that mallinfo2() (which
// reports the main arena only) sees the transport's I/O threads' allocations too.
const bool kSingleArena = [] { return ::mallopt(M_ARENA_MAX, 1) == 1; }();
constexpr const char* kNoHeapFiguresHere =
    "a sanitizer's allocator replaces malloc in this build: no heap figures to measure";

std::size_t heap_in_use() {
  return ::mallinfo2().uordblks;
}

// The port a listener logged ("listening on 127.0.0.1:41234 ..."), or 0.
uint16_t logged_port(FakeHost& host, const std::string& address_prefix) {
  const std::string needle = "listening on " + address_prefix + ":";
  for (const auto& l : host.logs()) {
    const auto at = l.find(needle);
    if (at != std::string::npos)
      return static_cast<uint16_t>(std::atoi(l.c_str() + at + needle.size()));
  }
  return 0;
}

std::string seq_line(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "{\"seq\":%08d,\"pad\":\"", i);
  return std::string(buf) + std::string(1000, 'p') + "\"}";
}

class BridgeTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (host_) {
      EXPECT_EQ(host_->violations(), std::vector<std::string>{});
      host_.reset();
    }
  }

  void start(const std::string& config, std::map<std::string, std::string> gateway = {},
             std::string state_dir = "/nonexistent-vespid-state") {
    host_ = std::make_unique<FakeHost>(std::move(gateway), std::move(state_dir));
    std::string err;
    ASSERT_EQ(host_->create(config, &err), VSP_OK) << err;
    ASSERT_EQ(host_->start(&err), VSP_OK) << err;
    port_ = logged_port(*host_, "127.0.0.1");
    ASSERT_NE(port_, 0) << "no listening log line";
  }

  std::unique_ptr<LineClient> connect(const std::string& ip = "127.0.0.1", int rcvbuf = 0) {
    std::string err;
    auto c = LineClient::connect(ip, port_, &err, rcvbuf);
    EXPECT_NE(c, nullptr) << err;
    return c;
  }

  FakeConn* wait_conn(std::size_t n = 1) {
    EXPECT_TRUE(host_->run_until([&] { return host_->conns().size() >= n; })) << "no conn_open";
    return host_->conn(n - 1);
  }

  bool wait_received(FakeConn* c, std::size_t n) {
    return host_->run_until([&] { return host_->received(*c).size() >= n; });
  }

  bool wait_closed(FakeConn* c) {
    return host_->run_until([&] { return host_->closed_count(*c) > 0; });
  }

  std::unique_ptr<FakeHost> host_;
  uint16_t port_ = 0;
};

// ---- Configuration -------------------------------------------------------------------------

TEST_F(BridgeTest, ConfigErrorsNameTheKeyAndTheExpectedType) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"bogus":1})", "unknown config key \"bogus\""},
      {R"({"port":"x"})", "config key \"port\" must be an integer from 0 to 65535"},
      {R"({"port":70000})", "config key \"port\" must be an integer from 0 to 65535"},
      {R"({"port":-1})", "config key \"port\" must be an integer"},
      {R"({"host":"tailnet"})", "config key \"host\" must be a string: \"loopback\", \"lan\""},
      {R"({"host":5})", "config key \"host\" must be a string"},
      {R"({"dialect":""})", "config key \"dialect\" must be a non-empty string"},
      {R"({"tls":"yes"})", "config key \"tls\" must be a boolean"},
      {R"({"cert_file":3})", "config key \"cert_file\" must be a non-empty string"},
      {R"({"key_file":null})", "config key \"key_file\" must be a non-empty string"},
      {R"({"max_line_bytes":0})", "config key \"max_line_bytes\" must be a positive integer"},
      {R"({"max_connections":1.5})", "config key \"max_connections\" must be a positive integer"},
      {R"({"send_queue_bytes":10})",
       "config key \"send_queue_bytes\" must be an integer of at least 1024"},
      {R"({"threads":0})", "config key \"threads\" must be an integer from 1 to 256"},
      {R"({"busy_poll_us":10001})",
       "config key \"busy_poll_us\" must be an integer from 0 to 10000 (microseconds)"},
      {R"({"busy_poll_us":"50"})", "config key \"busy_poll_us\" must be an integer from 0"},
      {R"({"keepalive":1})", "config key \"keepalive\" must be a boolean"},
      {R"({"loopback_companion":"no"})", "config key \"loopback_companion\" must be a boolean"},
      {R"([])", "config must be a JSON object"},
      {R"({)", "config is not valid JSON"},
  };
  for (const auto& [json, expected] : cases) {
    FakeHost host;
    std::string err;
    EXPECT_EQ(host.create(json, &err), VSP_E_INVALID) << json;
    EXPECT_NE(err.find(expected), std::string::npos) << json << " -> " << err;
  }
  // Every documented key with a valid value, and the bind-mode words.
  for (const char* ok :
       {"{}", "", R"({"host":"loopback"})", R"({"host":"lan"})", R"({"host":"::1"})",
        R"({"host":"127.0.0.1","port":18790,"dialect":"bridge.v1","tls":false,"cert_file":"/c",)"
        R"("key_file":"/k","max_line_bytes":1048576,"max_connections":10000,)"
        R"("send_queue_bytes":4194304,"threads":1,"busy_poll_us":0,"keepalive":true,)"
        R"("loopback_companion":true})"}) {
    FakeHost host;
    std::string err;
    EXPECT_EQ(host.create(ok, &err), VSP_OK) << ok << " -> " << err;
  }
}

TEST_F(BridgeTest, TlsWithoutACertificateFailsAtStartNamingTheFile) {
  // Nothing configured anywhere: the gateway's default path in its state directory.
  FakeHost host({{"tls.cert_file", "\"\""}}, "/nonexistent-vespid-state");
  std::string err;
  ASSERT_EQ(host.create(R"({"port":0,"tls":true})", &err), VSP_OK) << err;
  EXPECT_EQ(host.start(&err), VSP_E_IO);
  EXPECT_NE(err.find("cannot read the TLS certificate /nonexistent-vespid-state/tls/gateway.crt"),
            std::string::npos)
      << err;
  FakeHost own;
  ASSERT_EQ(own.create(R"({"port":0,"tls":true,"cert_file":"/nonexistent/c.pem"})", &err), VSP_OK);
  EXPECT_EQ(own.start(&err), VSP_E_IO);
  EXPECT_NE(err.find("/nonexistent/c.pem"), std::string::npos) << err;
}

TEST_F(BridgeTest, BindConflictIsAddrInUseNamingTheAddress) {
  start(R"({"port":0})");
  FakeHost second;
  std::string err;
  ASSERT_EQ(second.create(R"({"port":)" + std::to_string(port_) + "}", &err), VSP_OK) << err;
  EXPECT_EQ(second.start(&err), VSP_E_ADDR_IN_USE) << err;
  EXPECT_NE(err.find("127.0.0.1:" + std::to_string(port_)), std::string::npos) << err;
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, PrivilegedPortIsPermissionDenied) {
  if (::geteuid() == 0) {
    // Root may bind any port, so try it as an unprivileged user in a child process.
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
      FakeHost host;
      std::string err;
      if (host.create(R"({"port":1})", &err) != VSP_OK) ::_exit(4);
      int rc = host.start(&err);
      ::_exit(rc == VSP_E_PERMISSION && err.find("127.0.0.1:1:") != std::string::npos ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "as user 65534, binding port 1 must fail with "
           "VSP_E_PERMISSION naming the address (3: could not drop "
           "privileges, 4: create failed, 1: wrong status or message)";
    return;
  }
  FakeHost host;
  std::string err;
  ASSERT_EQ(host.create(R"({"port":1})", &err), VSP_OK) << err;
  EXPECT_EQ(host.start(&err), VSP_E_PERMISSION) << err;
  EXPECT_NE(err.find("127.0.0.1:1:"), std::string::npos) << err;
}

TEST_F(BridgeTest, Ipv6AddressesAreBracketed) {
  host_ = std::make_unique<FakeHost>();
  std::string err;
  ASSERT_EQ(host_->create(R"({"host":"::1","port":0})", &err), VSP_OK) << err;
  if (host_->start(&err) != VSP_OK) VESPID_SKIP_UNLESS_CI("no IPv6 loopback here: " << err);
  const uint16_t port = logged_port(*host_, "[::1]");
  ASSERT_NE(port, 0);
  EXPECT_EQ(logged_port(*host_, "127.0.0.1"), 0);  // ::1 is loopback already: no companion
  port_ = port;
  auto client = connect("::1");
  ASSERT_NE(client, nullptr);
  FakeConn* c = wait_conn();
  EXPECT_EQ(c->peer, "[::1]:" + std::to_string(client->local_port()));
  EXPECT_EQ(c->local, "[::1]:" + std::to_string(port));
  client.reset();
  EXPECT_TRUE(host_->stop());
}

// ---- Connections and framing ---------------------------------------------------------------

TEST_F(BridgeTest, ConnectionFacts) {
  start(R"({"port":0})");
  EXPECT_TRUE(host_->logged("ephemeral port " + std::to_string(port_)));
  auto client = connect();
  FakeConn* c = wait_conn();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->dialect, "bridge.v1");
  EXPECT_EQ(c->peer, "127.0.0.1:" + std::to_string(client->local_port()));
  EXPECT_EQ(c->local, "127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(c->flags, 0u);
  EXPECT_EQ(c->info_size, sizeof(vsp_conn_info));
  EXPECT_TRUE(c->handshake_fields_null);
  EXPECT_NE(c->io_thread, std::this_thread::get_id());
  // Peers that close promptly (as nodes do) keep the lingering close short.
  client.reset();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, LinesArriveWholeAndInOrder) {
  start(R"({"port":0})");
  auto client = connect();
  FakeConn* c = wait_conn();
  // Split across TCP segments (TCP_NODELAY on the client, pauses between writes).
  ASSERT_TRUE(client->write_all("{\"a\":"));
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(client->write_all("1}\n{\"b\""));
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(client->write_all(":2}\r"));
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(client->write_all("\n"));
  // Many lines in one segment, with CRLF and blank lines (skipped).
  std::string batch;
  std::vector<std::string> expected = {"{\"a\":1}", "{\"b\":2}"};
  for (int i = 0; i < 200; ++i) {
    const std::string line = "{\"n\":" + std::to_string(i) + "}";
    expected.push_back(line);
    batch += line + (i % 3 == 0 ? "\r\n" : "\n");
    if (i % 50 == 0) batch += "\n\r\n";
  }
  ASSERT_TRUE(client->write_all(batch));
  ASSERT_TRUE(wait_received(c, expected.size()));
  host_->run_for(50ms);  // nothing more (no blank messages) arrives
  EXPECT_EQ(host_->received(*c), expected);
  // Peers that close promptly (as nodes do) keep the lingering close short.
  client.reset();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, PeerCloseIsReportedOnceAndAnUnterminatedTailIsDropped) {
  start(R"({"port":0})");
  auto client = connect();
  FakeConn* c = wait_conn();
  ASSERT_TRUE(client->write_all("{\"whole\":true}\n{\"partial\":"));
  client->shutdown_write();
  ASSERT_TRUE(wait_closed(c));
  EXPECT_EQ(host_->closed_status(*c), VSP_OK);
  EXPECT_EQ(host_->closed_reason(*c), "peer closed the connection");
  EXPECT_EQ(host_->received(*c), std::vector<std::string>{"{\"whole\":true}"});
  EXPECT_EQ(client->read_to_end(), End::eof);
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, RefusedConnOpenClosesTheSocketWithoutConnClosed) {
  start(R"({"port":0})");
  host_->refuse_opens = true;
  auto client = connect();
  EXPECT_EQ(client->read_to_end(), End::eof);
  EXPECT_TRUE(host_->logged("the gateway refused a connection from 127.0.0.1:"));
  EXPECT_EQ(host_->conns().size(), 0u);
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, OversizedLineIsAProtocolErrorAndTheAnswerSurvivesTheClose) {
  start(R"({"port":0,"max_line_bytes":1024})");
  auto client = connect();
  FakeConn* c = wait_conn();
  ASSERT_TRUE(client->write_all("{\"ok\":1}\n"));
  ASSERT_TRUE(wait_received(c, 1));
  // Far more than the limit, and more than one read, so unread input is still queued in the
  // kernel when the gateway closes: without a lingering close that would become a reset.
  std::thread writer([&] { client->write_all(std::string(512 * 1024, 'x')); });
  ASSERT_TRUE(host_->run_until([&] { return !host_->protocol_errors(*c).empty(); }));
  EXPECT_EQ(host_->protocol_status(*c), VSP_E_OVERFLOW);
  EXPECT_EQ(host_->protocol_message(*c), "line exceeds max_line_bytes (1024)");
  const std::string answer =
      R"j({"type":"error","code":"INVALID_REQUEST","message":"line exceeds max_line_bytes (1024)"})j";
  EXPECT_EQ(host_->send(*c, answer), VSP_OK);
  host_->close(*c, VSP_E_OVERFLOW);
  EXPECT_EQ(host_->send(*c, "late"), VSP_E_CLOSED);

  EXPECT_EQ(client->read_line(), answer);
  std::string rest;
  EXPECT_EQ(client->read_to_end(&rest), End::eof);  // a FIN, not a reset
  EXPECT_EQ(rest, "");
  writer.join();
  client->shutdown_write();
  ASSERT_TRUE(wait_closed(c));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_OVERFLOW);
  EXPECT_EQ(host_->closed_reason(*c), "closed by the gateway");
  EXPECT_EQ(host_->received(*c).size(), 1u);
  EXPECT_TRUE(host_->stop());
}

// ---- Output --------------------------------------------------------------------------------

TEST_F(BridgeTest, SendFromAnotherThread) {
  start(R"({"port":0})");
  auto client = connect();
  FakeConn* c = wait_conn();
  int rc = -100;
  std::thread other([&] { rc = host_->send(*c, R"({"type":"event","event":"tick"})"); });
  other.join();
  EXPECT_EQ(rc, VSP_OK);
  EXPECT_EQ(client->read_line(), R"({"type":"event","event":"tick"})");
  // Peers that close promptly (as nodes do) keep the lingering close short.
  client.reset();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, SendsOnTheIoThreadInOneTurnLeaveInOneWrite) {
  start(R"({"port":0})");
  constexpr int kBurst = 3000;
  std::atomic<int> not_ok{0};
  host_->on_message = [&](FakeConn& c, const std::string& m) {
    // The core answering on the thread that delivered the frame: the transport's own.
    if (m != "burst") return;
    for (int i = 0; i < kBurst; ++i) {
      if (host_->send(c, "{\"i\":" + std::to_string(i) + "}") != VSP_OK) ++not_ok;
    }
  };
  auto client = connect();
  FakeConn* c = wait_conn();
  ASSERT_TRUE(client->write_all("burst\n"));
  for (int i = 0; i < kBurst; ++i) {
    auto line = client->read_line();
    ASSERT_EQ(line, "{\"i\":" + std::to_string(i) + "}");
  }
  EXPECT_EQ(not_ok.load(), 0);
  client.reset();
  ASSERT_TRUE(wait_closed(c));
  EXPECT_TRUE(host_->logged("in 1 writes)")) << "the burst was not coalesced";
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, LinesOfConnectionsReadInOneRoundAreDeliveredInOneBatch) {
  // An operator waiting for many nodes' answers should get the ones that arrive together in one
  // write: the host holds replies until the batch ends, so the batch must span every connection
  // the I/O thread reads in one round of its reactor, not one connection's read.
  start(R"({"port":0})");
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::map<std::string, uint64_t> batch_of;
  host_->on_message = [&](FakeConn&, const std::string& m) {
    std::unique_lock lock(mu);
    batch_of[m] = FakeHost::current_batch();
    // Holds the I/O thread, so that the lines written meanwhile are all ready at its next poll.
    if (m == "hold") cv.wait(lock, [&] { return release; });
  };
  auto holder = connect();
  auto a = connect();
  auto b = connect();
  wait_conn(3);
  ASSERT_TRUE(holder->write_all("hold\n"));
  ASSERT_TRUE(host_->run_until([&] {
    std::lock_guard lock(mu);
    return batch_of.count("hold") != 0;
  }));
  ASSERT_TRUE(a->write_all("from-a\n"));
  ASSERT_TRUE(b->write_all("from-b\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // both on the gateway's side
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(host_->run_until([&] {
    std::lock_guard lock(mu);
    return batch_of.count("from-a") != 0 && batch_of.count("from-b") != 0;
  }));
  {
    std::lock_guard lock(mu);
    EXPECT_NE(batch_of["hold"], 0u) << "delivered outside a batch";
    EXPECT_NE(batch_of["from-a"], 0u) << "delivered outside a batch";
    EXPECT_EQ(batch_of["from-a"], batch_of["from-b"])
        << "two connections read in one round were delivered in separate batches";
    EXPECT_NE(batch_of["from-a"], batch_of["hold"]) << "a round's batch outlived its round";
  }
  // Every batch ends once its round is over.
  EXPECT_TRUE(host_->run_until([&] { return host_->batches_ended() == host_->batches_begun(); }));
  std::size_t lines = 0;
  for (FakeConn* c : host_->conns()) lines += host_->received(*c).size();
  EXPECT_EQ(lines, 3u) << "each line once";
  holder.reset();
  a.reset();
  b.reset();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, BusyAboveHalfThenWritableBelowAQuarter) {
  start(R"({"port":0,"send_queue_bytes":65536})");
  auto client = connect("127.0.0.1", 4096);  // a small window: the kernel buffers fill early
  FakeConn* c = wait_conn();
  int sent = 0;
  int rc = VSP_OK;
  while (rc == VSP_OK && sent < 100000) rc = host_->send(*c, seq_line(sent++));
  ASSERT_EQ(rc, VSP_E_BUSY) << "after " << sent << " sends";
  EXPECT_EQ(host_->writable_calls(*c), 0);
  // The reader catches up: everything queued (the BUSY message too) arrives, in order.
  for (int i = 0; i < sent; ++i) ASSERT_EQ(client->read_line(), seq_line(i)) << i;
  ASSERT_TRUE(host_->run_until([&] { return host_->writable_calls(*c) > 0; }));
  EXPECT_EQ(host_->writable_calls(*c), 1);
  EXPECT_EQ(host_->send(*c, "after"), VSP_OK);
  EXPECT_EQ(client->read_line(), "after");
  // Peers that close promptly (as nodes do) keep the lingering close short.
  client.reset();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, OverflowDropsTheSlowReader) {
  start(R"({"port":0,"send_queue_bytes":65536})");
  auto client = connect("127.0.0.1", 4096);
  FakeConn* c = wait_conn();
  int sent = 0;
  int rc = VSP_OK;
  while ((rc == VSP_OK || rc == VSP_E_BUSY) && sent < 100000)
    rc = host_->send(*c, seq_line(sent++));
  ASSERT_EQ(rc, VSP_E_OVERFLOW);
  ASSERT_TRUE(wait_closed(c));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_OVERFLOW);
  EXPECT_EQ(host_->closed_reason(*c), "send queue exceeded send_queue_bytes (65536)");
  const End end = client->read_to_end();
  EXPECT_TRUE(end == End::eof || end == End::reset);
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, CloseFlushesWhatIsQueuedFirst) {
  start(R"({"port":0})");
  auto client = connect();
  FakeConn* c = wait_conn();
  std::thread other([&] {
    EXPECT_EQ(host_->send(*c, "one"), VSP_OK);
    EXPECT_EQ(host_->send(*c, "two"), VSP_OK);
    host_->close(*c, VSP_OK);
    EXPECT_EQ(host_->send(*c, "three"), VSP_E_CLOSED);
  });
  other.join();
  EXPECT_EQ(client->read_line(), "one");
  EXPECT_EQ(client->read_line(), "two");
  EXPECT_EQ(client->read_to_end(), End::eof);
  client.reset();
  ASSERT_TRUE(wait_closed(c));
  EXPECT_EQ(host_->closed_status(*c), VSP_OK);
  EXPECT_EQ(host_->closed_reason(*c), "closed by the gateway");
  EXPECT_TRUE(host_->stop());
}

// ---- Limits and listeners ------------------------------------------------------------------

TEST_F(BridgeTest, OverMaxConnectionsIsClosedAtOnceWithAWarning) {
  start(R"({"port":0,"max_connections":2})");
  auto a = connect();
  auto b = connect();
  wait_conn(2);
  auto refused = connect();
  const End end = refused->read_to_end(nullptr, 2s);
  EXPECT_TRUE(end == End::eof || end == End::reset);
  EXPECT_TRUE(host_->logged("max_connections (2) reached"));
  EXPECT_EQ(host_->conns().size(), 2u);
  // A slot frees up once a connection is gone.
  FakeConn* first = host_->conn(0);
  a.reset();
  ASSERT_TRUE(wait_closed(first));
  auto d = connect();
  EXPECT_NE(wait_conn(3), nullptr);
  // Peers that close promptly (as nodes do) keep the lingering close short.
  b.reset();
  refused.reset();
  d.reset();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, LoopbackCompanionForASpecificAddress) {
  start(R"({"host":"127.0.0.2","port":0})");
  const uint16_t primary = logged_port(*host_, "127.0.0.2");
  ASSERT_NE(primary, 0);
  EXPECT_EQ(port_, primary);
  EXPECT_TRUE(host_->logged("loopback companion of 127.0.0.2:" + std::to_string(primary)));
  auto via_primary = connect("127.0.0.2");
  FakeConn* c1 = wait_conn(1);
  auto via_companion = connect("127.0.0.1");
  FakeConn* c2 = wait_conn(2);
  EXPECT_EQ(c1->local, "127.0.0.2:" + std::to_string(primary));
  EXPECT_EQ(c2->local, "127.0.0.1:" + std::to_string(primary));
  // Peers that close promptly (as nodes do) keep the lingering close short.
  via_primary.reset();
  via_companion.reset();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, NoCompanionWhenDisabledOrAlreadyLoopback) {
  {
    FakeHost host;
    std::string err;
    ASSERT_EQ(host.create(R"({"host":"127.0.0.2","port":0,"loopback_companion":false})", &err),
              VSP_OK);
    ASSERT_EQ(host.start(&err), VSP_OK) << err;
    const uint16_t port = logged_port(host, "127.0.0.2");
    ASSERT_NE(port, 0);
    EXPECT_EQ(logged_port(host, "127.0.0.1"), 0);
    EXPECT_EQ(LineClient::connect("127.0.0.1", port), nullptr);
    EXPECT_TRUE(host.stop());
  }
  start(R"({"port":0})");
  int listening = 0;
  for (const auto& l : host_->logs()) listening += l.find("listening on") != std::string::npos;
  EXPECT_EQ(listening, 1);
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTest, SeveralIoThreadsKeepEachConnectionOnOne) {
  start(R"({"port":0,"threads":3})");
  host_->on_message = [&](FakeConn& c, const std::string& m) { host_->send(c, m); };
  std::vector<std::unique_ptr<LineClient>> clients;
  for (int i = 0; i < 9; ++i) clients.push_back(connect());
  wait_conn(9);
  for (int round = 0; round < 20; ++round) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      ASSERT_TRUE(clients[i]->write_all("{\"c\":" + std::to_string(i) +
                                        ",\"r\":" + std::to_string(round) + "}\n"));
    }
    for (std::size_t i = 0; i < clients.size(); ++i) {
      ASSERT_EQ(clients[i]->read_line(),
                "{\"c\":" + std::to_string(i) + ",\"r\":" + std::to_string(round) + "}");
    }
  }
  std::set<std::thread::id> threads;
  for (std::size_t i = 0; i < 9; ++i) threads.insert(host_->conn(i)->io_thread);
  EXPECT_EQ(threads.size(), 3u);
  // Peers that close promptly (as nodes do) keep the lingering close short.
  clients.clear();
  EXPECT_TRUE(host_->stop());
}

// ABI 1.6: each I/O thread registers with the host before it opens a connection, answers a
// wake-up with io_thread_run on itself (the fake host flags a run on another thread), and ends its
// registration when the transport stops.
TEST_F(BridgeTest, EachIoThreadRegistersWithTheHostAndRunsWhatItIsWokenFor) {
  start(R"({"port":0,"threads":3})");
  ASSERT_TRUE(host_->run_until([&] { return host_->io_threads() == 3; }));
  std::vector<std::unique_ptr<LineClient>> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(connect());
  wait_conn(6);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_TRUE(host_->conn(i)->opened_on_registered_thread);
  EXPECT_EQ(host_->wake_io_threads(), 3);
  EXPECT_TRUE(host_->run_until([&] { return host_->io_thread_runs() == 3; }));
  EXPECT_EQ(host_->wake_io_threads(), 3);
  EXPECT_TRUE(host_->run_until([&] { return host_->io_thread_runs() == 6; }));
  clients.clear();
  EXPECT_TRUE(host_->stop());
  EXPECT_EQ(host_->io_threads(), 0u);
  EXPECT_TRUE(host_->violations().empty());
}

// CPU time the I/O thread named `name` has used, in clock ticks (/proc: utime + stime).
long thread_cpu_ticks(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string n;
    if (!std::getline(comm, n) || n != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    std::istringstream rest(text.substr(text.rfind(')') + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(rest), {}};
    return f.size() > 12 ? std::stol(f[11]) + std::stol(f[12]) : -1;
  }
  return -1;
}

TEST_F(BridgeTest, BusyPollingKeepsTheIoThreadAwakeWhileTrafficFlowsAndLetsItSleepWhenIdle) {
  start(R"({"port":0,"busy_poll_us":10000})");
  host_->on_message = [&](FakeConn& c, const std::string& m) { host_->send(c, m); };
  auto client = connect();
  wait_conn();
  const long ticks_per_s = ::sysconf(_SC_CLK_TCK);
  const long before = thread_cpu_ticks("vsp-bridge-0");
  ASSERT_GE(before, 0) << "no thread named vsp-bridge-0";
  // Exchanges 5 ms apart, within the 10 ms window: the thread never sleeps between them. Asleep
  // between them it would use a few microseconds per exchange, under one tick in all.
  const auto busy_until = std::chrono::steady_clock::now() + 400ms;
  int exchanges = 0;
  while (std::chrono::steady_clock::now() < busy_until) {
    const std::string line = "{\"n\":" + std::to_string(exchanges++) + "}";
    ASSERT_TRUE(client->write_all(line + "\n"));
    ASSERT_EQ(client->read_line(), line);
    std::this_thread::sleep_for(5ms);
  }
  const long busy = thread_cpu_ticks("vsp-bridge-0") - before;
  EXPECT_GE(busy, ticks_per_s / 20) << "polled for " << busy << " ticks in 400 ms";
  // Idle past the window, the thread sleeps in the reactor: almost no CPU over 300 ms.
  std::this_thread::sleep_for(50ms);
  const long idle_from = thread_cpu_ticks("vsp-bridge-0");
  std::this_thread::sleep_for(300ms);
  const long idle = thread_cpu_ticks("vsp-bridge-0") - idle_from;
  EXPECT_LE(idle, ticks_per_s / 50) << "used " << idle << " ticks while idle";
  // Still answers after sleeping, and stops promptly.
  ASSERT_TRUE(client->write_all("{\"after\":true}\n"));
  EXPECT_EQ(client->read_line(), "{\"after\":true}");
  client.reset();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(host_->stop());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
}

// ---- Stopping ------------------------------------------------------------------------------

TEST_F(BridgeTest, StopClosesConnectionsThenCallsDone) {
  start(R"({"port":0})");
  auto a = connect();
  auto b = connect();
  wait_conn(2);
  EXPECT_EQ(host_->send(*host_->conn(0), "bye-a"), VSP_OK);
  EXPECT_EQ(host_->send(*host_->conn(1), "bye-b"), VSP_OK);
  // The peers read their last line, see EOF and close, as a node would.
  auto reader = [](LineClient* cl, std::string* got, End* end) {
    *got = cl->read_line().value_or("<none>");
    *end = cl->read_to_end();
    cl->shutdown_write();
  };
  std::string got_a, got_b;
  End end_a{}, end_b{};
  std::thread ta(reader, a.get(), &got_a, &end_a);
  std::thread tb(reader, b.get(), &got_b, &end_b);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(host_->stop());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  ta.join();
  tb.join();
  EXPECT_EQ(host_->closed_when_done(), 2);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(host_->closed_status(*host_->conn(i)), VSP_E_CLOSED);
    EXPECT_EQ(host_->closed_reason(*host_->conn(i)), "gateway stopping");
  }
  EXPECT_EQ(got_a, "bye-a");
  EXPECT_EQ(got_b, "bye-b");
  EXPECT_EQ(end_a, End::eof);
  EXPECT_EQ(end_b, End::eof);
  // The listener is gone.
  EXPECT_EQ(LineClient::connect("127.0.0.1", port_), nullptr);
}

TEST_F(BridgeTest, DestroyWithoutACompletedStopCallsNothingBack) {
  start(R"({"port":0})");
  auto client = connect();
  FakeConn* c = wait_conn();
  host_->destroy();
  EXPECT_EQ(host_->closed_count(*c), 0);
  const End end = client->read_to_end(nullptr, 2s);
  EXPECT_TRUE(end == End::eof || end == End::reset);
}

// ---- TLS -----------------------------------------------------------------------------------

class BridgeTlsTest : public BridgeTest {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/vespid-bridge-tls-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -days 2 -subj /CN=vespid-bridge-test -keyout " +
        dir_ + "/key.pem -out " + dir_ + "/cert.pem 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    pin_ = cert_fingerprint_sha256(dir_ + "/cert.pem");
    ASSERT_EQ(pin_.size(), 64u);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  std::string tls_config() const {
    return R"({"port":0,"tls":true,"cert_file":")" + dir_ + R"(/cert.pem","key_file":")" + dir_ +
           R"(/key.pem"})";
  }

  std::unique_ptr<LineClient> connect_tls(std::string* err = nullptr, int max_version = 0,
                                          const std::string& pin = pin_) {
    return LineClient::connect_tls("127.0.0.1", port_, pin, err, max_version);
  }

  static inline std::string dir_;
  static inline std::string pin_;
};

TEST_F(BridgeTlsTest, PinnedClientExchangesLines) {
  start(tls_config());
  host_->on_message = [&](FakeConn& c, const std::string& m) { host_->send(c, "echo:" + m); };
  std::string err;
  auto client = connect_tls(&err);
  ASSERT_NE(client, nullptr) << err;
  FakeConn* c = wait_conn();
  EXPECT_EQ(c->flags, static_cast<uint32_t>(VSP_CONN_TLS));
  EXPECT_EQ(c->dialect, "bridge.v1");
  ASSERT_TRUE(client->write_all(
      "{\"type\":\"hello\",\"nodeId\":\"n1\"}\r\n\n{\"type\":\"ping\",\"id\":\"1\"}\n"));
  EXPECT_EQ(client->read_line(), "echo:{\"type\":\"hello\",\"nodeId\":\"n1\"}");
  EXPECT_EQ(client->read_line(), "echo:{\"type\":\"ping\",\"id\":\"1\"}");

  // A close: the last line arrives, then close_notify.
  EXPECT_EQ(host_->send(*c, "last"), VSP_OK);
  host_->close(*c, VSP_OK);
  EXPECT_EQ(client->read_line(), "last");
  EXPECT_EQ(client->read_to_end(), End::eof);
  client.reset();
  ASSERT_TRUE(wait_closed(c));
  EXPECT_EQ(host_->closed_reason(*c), "closed by the gateway");
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTlsTest, AWrongPinIsRefusedByTheClient) {
  start(tls_config());
  std::string err;
  EXPECT_EQ(connect_tls(&err, 0, std::string(64, '0')), nullptr);
  EXPECT_TRUE(host_->stop());
  EXPECT_EQ(host_->conns().size(), 0u);
}

TEST_F(BridgeTlsTest, CertificateDefaultsToTheGatewaysOwn) {
  start(R"({"port":0,"tls":true})", {{"tls.cert_file", "\"" + dir_ + "/cert.pem\""},
                                     {"tls.key_file", "\"" + dir_ + "/key.pem\""}});
  std::string err;
  auto client = connect_tls(&err);
  ASSERT_NE(client, nullptr) << err;
  FakeConn* c = wait_conn();
  ASSERT_TRUE(client->write_all("{\"type\":\"ping\"}\n"));
  ASSERT_TRUE(wait_received(c, 1));
  EXPECT_EQ(host_->received(*c)[0], "{\"type\":\"ping\"}");
  // Peers that close promptly (as nodes do) keep the lingering close short.
  client.reset();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTlsTest, EmptyGatewayPathsMeanTheStateDirectoryDefaults) {
  std::filesystem::create_directories(dir_ + "/state/tls");
  std::filesystem::copy_file(dir_ + "/cert.pem", dir_ + "/state/tls/gateway.crt",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(dir_ + "/key.pem", dir_ + "/state/tls/gateway.key",
                             std::filesystem::copy_options::overwrite_existing);
  start(R"({"port":0,"tls":true})", {{"tls.cert_file", "\"\""}, {"tls.key_file", "\"\""}},
        dir_ + "/state");
  EXPECT_TRUE(host_->logged("TLS certificate " + dir_ + "/state/tls/gateway.crt"));
  std::string err;
  auto client = connect_tls(&err);
  ASSERT_NE(client, nullptr) << err;
  client.reset();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTlsTest, Tls11ClientIsRefused) {
  start(tls_config());
  std::string err;
  EXPECT_EQ(connect_tls(&err, TLS1_1_VERSION), nullptr);
  EXPECT_NE(err.find("TLS handshake failed"), std::string::npos) << err;
  // A TLS 1.2 client is fine.
  auto ok = connect_tls(&err, TLS1_2_VERSION);
  ASSERT_NE(ok, nullptr) << err;
  FakeConn* c = wait_conn();
  EXPECT_EQ(host_->conns().size(), 1u);  // the refused one never reached the host
  EXPECT_EQ(c->flags, static_cast<uint32_t>(VSP_CONN_TLS));
  EXPECT_TRUE(host_->logged("TLS handshake failed"));
  // Peers that close promptly (as nodes do) keep the lingering close short.
  ok.reset();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTlsTest, OversizedLineOverTls) {
  start(R"({"port":0,"tls":true,"max_line_bytes":100,"cert_file":")" + dir_ +
        R"(/cert.pem","key_file":")" + dir_ + R"(/key.pem"})");
  host_->on_protocol_error = [&](FakeConn& c, int, const std::string& msg) {
    // As the core does: answer in the dialect's form, then close.
    host_->send(c, R"({"type":"error","code":"INVALID_REQUEST","message":")" + msg + "\"}");
    host_->close(c, VSP_E_OVERFLOW);
  };
  std::string err;
  auto client = connect_tls(&err);
  ASSERT_NE(client, nullptr) << err;
  FakeConn* c = wait_conn();
  ASSERT_TRUE(client->write_all(std::string(300, 'x') + "\n"));
  EXPECT_EQ(
      client->read_line(),
      R"j({"type":"error","code":"INVALID_REQUEST","message":"line exceeds max_line_bytes (100)"})j");
  EXPECT_EQ(client->read_to_end(), End::eof);
  client.reset();
  ASSERT_TRUE(wait_closed(c));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_OVERFLOW);
  EXPECT_TRUE(host_->stop());
}

}  // namespace
}  // namespace vespid::bridge::testing

namespace vespid::bridge::testing {
namespace {

// Per-connection memory of idle peers: the target is 10,000 idle nodes under 10 KiB each. The
// measurement includes the test's own bookkeeping per connection (FakeConn, LineClient).
std::size_t idle_bytes_per_connection(FakeHost& host, int n,
                                      const std::function<std::unique_ptr<LineClient>()>& dial,
                                      std::vector<std::unique_ptr<LineClient>>& clients) {
  host.on_message = [&host](FakeConn& c, const std::string& m) { host.send(c, m); };
  auto exchange = [&](LineClient& cl) {
    EXPECT_TRUE(cl.write_all("{\"type\":\"ping\",\"id\":\"1\"}\n"));
    EXPECT_EQ(cl.read_line(), "{\"type\":\"ping\",\"id\":\"1\"}");
  };
  // Warm up pools and caches with a first connection.
  clients.push_back(dial());
  exchange(*clients.back());
  const std::size_t before = heap_in_use();
  for (int i = 0; i < n; ++i) {
    clients.push_back(dial());
    if (!clients.back()) return SIZE_MAX;
    exchange(*clients.back());  // every buffer has been used once
  }
  EXPECT_TRUE(host.run_until([&] { return host.conns().size() >= clients.size(); }));
  host.run_for(100ms);  // let writes complete and buffers be trimmed
  const std::size_t after = heap_in_use();
  return after > before ? (after - before) / static_cast<std::size_t>(n) : 0;
}

TEST_F(BridgeTest, IdleConnectionsStayUnder10KiB) {
  if (::vespid::test::kSanitizerAllocator) VESPID_SKIP_IN_THIS_BUILD(kNoHeapFiguresHere);
  ASSERT_TRUE(kSingleArena)
      << "mallopt(M_ARENA_MAX, 1) failed: the heap figures would miss threads";
  start(R"({"port":0})");
  std::vector<std::unique_ptr<LineClient>> clients;
  const std::size_t per = idle_bytes_per_connection(
      *host_, 1000, [&] { return connect(); }, clients);
  std::printf("[ measured ] plain TCP: %zu bytes of heap per idle connection\n", per);
  EXPECT_LT(per, 10u * 1024u);
  clients.clear();
  EXPECT_TRUE(host_->stop());
}

TEST_F(BridgeTlsTest, IdleTlsConnectionCost) {
  if (::vespid::test::kSanitizerAllocator) VESPID_SKIP_IN_THIS_BUILD(kNoHeapFiguresHere);
  ASSERT_TRUE(kSingleArena)
      << "mallopt(M_ARENA_MAX, 1) failed: the heap figures would miss threads";
  start(tls_config());
  host_->on_message = [this](FakeConn& c, const std::string& m) { host_->send(c, m); };
  auto warm = connect_tls();
  ASSERT_NE(warm, nullptr);
  ASSERT_TRUE(warm->write_all("{}\n"));
  ASSERT_EQ(warm->read_line(), "{}");
  // The clients run in a child process, so only the server's side is measured here.
  constexpr int kConns = 200;
  int ready[2];
  int go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  const std::size_t before = heap_in_use();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(go[1]);
    std::vector<std::unique_ptr<LineClient>> clients;
    for (int i = 0; i < kConns; ++i) {
      auto cl = connect_tls();
      if (!cl || !cl->write_all("{\"type\":\"ping\"}\n") || !cl->read_line()) ::_exit(1);
      clients.push_back(std::move(cl));
    }
    char b = 1;
    (void)!::write(ready[1], &b, 1);
    (void)!::read(go[0], &b, 1);  // until the parent closes its end
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(go[0]);
  char b = 0;
  EXPECT_EQ(::read(ready[0], &b, 1), 1);
  EXPECT_TRUE(host_->run_until([&] { return host_->conns().size() >= kConns + 1; }));
  host_->run_for(100ms);
  const std::size_t per = (heap_in_use() - before) / kConns;
  std::printf("[ measured ] TLS: %zu bytes of heap per idle connection (server side)\n", per);
  ::close(go[1]);
  ::close(ready[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  warm.reset();
  EXPECT_TRUE(host_->stop());
}

}  // namespace
}  // namespace vespid::bridge::testing
