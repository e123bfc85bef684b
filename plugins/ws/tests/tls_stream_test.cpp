// TlsStream (OpenSSL straight on the socket) on its own, over real loopback sockets driven on the
// test's thread: deadlines cut a peer that stalls in the handshake or inside a record, handlers
// are never called from the initiating function, the close_notify teardown reads as a clean EOF
// on the other side (and a TCP end without one as a truncation); then through the plugin, a
// 1 MiB message over wss both ways.
#include "tls_stream.hpp"

#include <openssl/ssl.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>

#include "stream.hpp"
#include "test_env.hpp"
#include "tls.hpp"

namespace vespid::ws::testing {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

class TlsStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ctx_ = make_server_tls(tls_files().cert_pem, tls_files().key_pem);
    client_ctx_ = client_tls(tls_files().ca_pem);
    tcp::acceptor acceptor(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    Socket client_socket(ioc_);
    client_socket.connect(acceptor.local_endpoint());
    Socket server_socket = acceptor.accept(ioc_);
    server_.emplace(std::move(server_socket), server_ctx_.get());
    client_.emplace(std::move(client_socket), client_ctx_.get());
  }

  // Runs the test's I/O until `done` holds or `limit` passes.
  template <class Done>
  void run_until(Done done, std::chrono::milliseconds limit = 5000ms) {
    const auto end = steady_clock::now() + limit;
    while (!done() && steady_clock::now() < end) ioc_.run_one_for(20ms);
  }

  void handshake_both() {
    ASSERT_FALSE(client_->tls().set_host_name("localhost"));
    std::optional<beast::error_code> s, c;
    server_->tls().async_handshake(TlsStream::server, [&](beast::error_code ec) { s = ec; });
    client_->tls().async_handshake(TlsStream::client, [&](beast::error_code ec) { c = ec; });
    run_until([&] { return s && c; });
    ASSERT_TRUE(s && c);
    ASSERT_FALSE(*s) << s->message();
    ASSERT_FALSE(*c) << c->message();
  }

  net::io_context ioc_;
  // Keeps run_one_for from finding the context out of work (and stopped) between operations.
  net::executor_work_guard<net::io_context::executor_type> work_{ioc_.get_executor()};
  std::unique_ptr<net::ssl::context> server_ctx_;
  std::shared_ptr<net::ssl::context> client_ctx_;
  std::optional<Stream> server_;
  std::optional<Stream> client_;
};

TEST_F(TlsStreamTest, AStalledHandshakeIsCutAtTheDeadline) {
  // The client connected and says nothing.
  server_->expires_after(200ms);
  std::optional<beast::error_code> result;
  const auto start = steady_clock::now();
  server_->tls().async_handshake(TlsStream::server, [&](beast::error_code ec) { result = ec; });
  EXPECT_FALSE(result) << "the handler ran inside async_handshake";
  run_until([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, beast::error::timeout) << result->message();
  const auto took = steady_clock::now() - start;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 2000ms);
  EXPECT_FALSE(server_->socket().is_open());
}

TEST_F(TlsStreamTest, APeerStalledInsideARecordIsCutAtTheDeadline) {
  ASSERT_NO_FATAL_FAILURE(handshake_both());
  // The first bytes of an application-data record header, then nothing.
  static const unsigned char partial[] = {0x17, 0x03, 0x03};
  net::write(client_->socket(), net::buffer(partial));
  server_->expires_after(200ms);
  char buf[64];
  std::optional<beast::error_code> result;
  server_->async_read_some(net::buffer(buf),
                           [&](beast::error_code ec, std::size_t) { result = ec; });
  run_until([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, beast::error::timeout) << result->message();
}

TEST_F(TlsStreamTest, NoDeadlineMeansNoTimeoutAndDataStillFlows) {
  ASSERT_NO_FATAL_FAILURE(handshake_both());
  server_->expires_after(100ms);
  server_->expires_never();
  char buf[16];
  std::optional<beast::error_code> result;
  std::size_t got = 0;
  server_->async_read_some(net::buffer(buf), [&](beast::error_code ec, std::size_t n) {
    result = ec;
    got = n;
  });
  run_until([&] { return result.has_value(); }, 400ms);
  EXPECT_FALSE(result) << "a read without a deadline ended: " << result->message();
  std::optional<beast::error_code> wrote;
  client_->async_write_some(net::buffer("hello", 5),
                            [&](beast::error_code ec, std::size_t) { wrote = ec; });
  run_until([&] { return result && wrote; });
  ASSERT_TRUE(result && wrote);
  EXPECT_FALSE(*result);
  EXPECT_FALSE(*wrote);
  EXPECT_EQ(std::string(buf, got), "hello");
}

TEST_F(TlsStreamTest, AnOperationThatEndsAtOnceIsPosted) {
  ASSERT_NO_FATAL_FAILURE(handshake_both());
  std::optional<beast::error_code> result;
  server_->async_read_some(net::mutable_buffer(),
                           [&](beast::error_code ec, std::size_t) { result = ec; });
  EXPECT_FALSE(result) << "the handler ran inside async_read_some";
  run_until([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result);
}

TEST_F(TlsStreamTest, TeardownSendsCloseNotifyThenClosesTcp) {
  ASSERT_NO_FATAL_FAILURE(handshake_both());
  std::optional<beast::error_code> server_done, client_read, client_done;
  async_teardown(beast::role_type::server, *server_,
                 [&](beast::error_code ec) { server_done = ec; });
  char buf[16];
  client_->async_read_some(net::buffer(buf),
                           [&](beast::error_code ec, std::size_t) { client_read = ec; });
  run_until([&] { return client_read.has_value(); });
  ASSERT_TRUE(client_read);
  // The peer's close_notify, not a truncation.
  EXPECT_EQ(*client_read, net::error::eof) << client_read->message();
  EXPECT_NE(::SSL_get_shutdown(client_->tls().native_handle()) & SSL_RECEIVED_SHUTDOWN, 0);
  async_teardown(beast::role_type::client, *client_,
                 [&](beast::error_code ec) { client_done = ec; });
  run_until([&] { return server_done && client_done; });
  ASSERT_TRUE(server_done && client_done);
  EXPECT_FALSE(*server_done) << server_done->message();
  EXPECT_FALSE(*client_done) << client_done->message();
  EXPECT_FALSE(server_->socket().is_open());
  EXPECT_FALSE(client_->socket().is_open());
}

TEST_F(TlsStreamTest, ATcpEndWithoutCloseNotifyIsATruncation) {
  ASSERT_NO_FATAL_FAILURE(handshake_both());
  // A FIN (close() could reset instead: the client has not read the server's session tickets).
  client_->socket().shutdown(Socket::shutdown_send);
  char buf[16];
  std::optional<beast::error_code> result;
  server_->async_read_some(net::buffer(buf),
                           [&](beast::error_code ec, std::size_t) { result = ec; });
  run_until([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, net::ssl::error::stream_truncated) << result->message();
}

TEST_F(TlsStreamTest, AClientChecksTheServerName) {
  // The certificate is for localhost; verification against another name fails the handshake.
  ASSERT_FALSE(client_->tls().set_host_name("gateway.example"));
  std::optional<beast::error_code> s, c;
  server_->tls().async_handshake(TlsStream::server, [&](beast::error_code ec) { s = ec; });
  client_->tls().async_handshake(TlsStream::client, [&](beast::error_code ec) { c = ec; });
  run_until([&] { return s && c; });
  ASSERT_TRUE(c);
  ASSERT_TRUE(*c);
  EXPECT_NE(c->message().find("certificate verify failed"), std::string::npos) << c->message();
}

class WssLargeMessageTest : public WsTest {};

TEST_F(WssLargeMessageTest, OneMebibyteEchoedOverWssBothWays) {
  const auto& f = tls_files();
  start({{"tls", true},
         {"cert_file", f.cert_pem},
         {"key_file", f.key_pem},
         {"echo_path", "/ws/echo"},
         {"max_message_bytes", 2 * 1024 * 1024}});
  // A small receive buffer: the server's writes fill the socket and wait for it (WANT_WRITE).
  auto p = peer(client_tls(f.ca_pem), 16 * 1024);
  ASSERT_EQ(p->ws_handshake("/ws/echo").status, 101);
  std::string message(1024 * 1024, '\0');
  for (std::size_t i = 0; i < message.size(); ++i) {
    message[i] = static_cast<char>((i * 2654435761u) >> 13);
  }
  ASSERT_FALSE(p->ws_send(message, true)) << p->last_error().message();
  const auto echoed = p->ws_read(10s);
  ASSERT_TRUE(echoed) << p->last_error().message();
  EXPECT_TRUE(p->last_was_binary());
  EXPECT_EQ(echoed->size(), message.size());
  EXPECT_TRUE(*echoed == message);
  // And text, after it, on the same connection.
  const std::string text(1024 * 1024, 'x');
  ASSERT_FALSE(p->ws_send(text));
  const auto echoed_text = p->ws_read(10s);
  ASSERT_TRUE(echoed_text) << p->last_error().message();
  EXPECT_TRUE(*echoed_text == text);
  EXPECT_FALSE(p->ws_close());
  EXPECT_EQ(p->close_code(), 1000);
}

TEST_F(WssLargeMessageTest, AStalledTlsHandshakeIsCutByHandshakeTimeout) {
  const auto& f = tls_files();
  start({{"tls", true},
         {"cert_file", f.cert_pem},
         {"key_file", f.key_pem},
         {"handshake_timeout_ms", 300}});
  // Plain TCP to the TLS port, then silence: the server gives up after handshake_timeout_ms.
  auto p = peer();
  const auto start_time = steady_clock::now();
  EXPECT_TRUE(p->wait_closed(5s));
  EXPECT_LT(steady_clock::now() - start_time, 3s);
  EXPECT_TRUE(host_->conns().empty());
}

}  // namespace
}  // namespace vespid::ws::testing
