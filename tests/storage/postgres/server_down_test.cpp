// A server that is not there, or does not answer: start fails with VSP_E_IO naming host:port and
// libpq's reason (so the gateway never starts "ready" against a dead server), a connection that
// never completes gives up after connect_timeout_ms, and a request the server never answers
// fails after request_timeout_ms, after which the plugin goes on with a new connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "gateway_process.hpp"  // pick_free_port
#include "pg_backend.hpp"
#include "raw_session.hpp"

namespace vespid::storage_test::postgres {
namespace {

using Clock = std::chrono::steady_clock;

TEST_F(PostgresTest, NoServerListeningFailsStartNamingHostPortAndTheReason) {
  const int port = vespid::test::pick_free_port();
  std::string msg;
  EXPECT_EQ(h().open_with(config_for("host=127.0.0.1 port=" + std::to_string(port) +
                                         " dbname=vespid user=vespid",
                                     schema()),
                          &msg),
            VSP_E_IO);
  EXPECT_NE(msg.find("postgres: cannot connect to 127.0.0.1:" + std::to_string(port) +
                     " (database \"vespid\", user \"vespid\"): "),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("Connection refused"), std::string::npos) << "libpq's reason: " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  EXPECT_FALSE(store().created()) << "a failed start leaves no instance";
}

TEST_F(PostgresTest, AServerThatNeverAnswersTimesOutAfterConnectTimeout) {
  // A listener that never accepts: the kernel completes the TCP handshake, libpq sends its
  // startup packet, and nothing ever comes back.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int port = ntohs(a.sin_port);
  std::string msg;
  const auto t0 = Clock::now();
  const int rc = h().open_with(
      config_for("host=127.0.0.1 port=" + std::to_string(port) + " dbname=vespid user=vespid",
                 schema(), R"("connect_timeout_ms": 300)"),
      &msg);
  const auto took = Clock::now() - t0;
  ::close(fd);
  EXPECT_EQ(rc, VSP_E_IO);
  EXPECT_NE(msg.find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("timed out after 300 ms (connect_timeout_ms)"), std::string::npos) << msg;
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(PostgresTest, ARequestTheServerNeverAnswersFailsAfterRequestTimeoutAndTheNextOneWorks) {
  open(R"("request_timeout_ms": 500)");
  ASSERT_EQ(store().commit({Txn().put("k", "v")}).status, VSP_OK);
  // Freeze the plugin's server process: its socket stays open, nothing comes back.
  const std::string pid =
      sql(std::string("SELECT pid FROM pg_stat_activity WHERE application_name = '") +
          kPluginApplication + "'");
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(::kill(std::stoi(pid), SIGSTOP), 0);
  Kv kv;
  std::string msg;
  const auto t0 = Clock::now();
  const int rc = store().get("k", &kv, &msg);
  const auto took = Clock::now() - t0;
  ::kill(std::stoi(pid), SIGCONT);
  EXPECT_EQ(rc, VSP_E_IO);
  EXPECT_NE(msg.find("postgres: reading a key on 127.0.0.1:" + std::to_string(server().port()) +
                     " failed: no answer from the server in time (request_timeout_ms)"),
            std::string::npos)
      << msg;
  EXPECT_GE(took, std::chrono::milliseconds(500));
  EXPECT_LT(took, std::chrono::seconds(5));
  // The frozen session was given up; the next call gets a new one.
  EXPECT_EQ(store().get("k", &kv, &msg), VSP_OK) << msg;
  EXPECT_EQ(kv.value, "v");
}

}  // namespace
}  // namespace vespid::storage_test::postgres
