// The NATS baseline: nats-server (the Debian package) on a loopback port, and a minimal client
// of its text protocol (CONNECT, SUB, PUB with a reply subject, MSG, PING/PONG), written here
// because there is no NATS client library on these machines. It does the gateway's two-hop job:
// requester -> nats -> responder -> nats -> requester.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "io_pool.hpp"
#include "load.hpp"
#include "stream_conn.hpp"

namespace vespid::bench {

class NatsServer {
 public:
  // Starts `bin` on 127.0.0.1:<free port> with its files under `dir`; waits until it accepts.
  void start(const std::string& bin, const std::string& dir);
  void stop() { proc_.stop(); }
  int port() const noexcept { return port_; }
  pid_t pid() const noexcept { return proc_.pid(); }

 private:
  ChildProcess proc_;
  int port_ = 0;
};

// One NATS connection: parses INFO/MSG/PING/PONG/+OK/-ERR, answers PING, and hands each MSG to
// on_msg(subject, reply_to, payload). Use on its io_context thread only.
class NatsConn : public std::enable_shared_from_this<NatsConn> {
 public:
  using OnMsg = std::function<void(std::string_view subject, std::string_view reply,
                                   std::string_view payload)>;
  explicit NatsConn(std::shared_ptr<StreamConn> conn) : conn_(std::move(conn)) {}

  // Starts reading and sends CONNECT, then `subscriptions` (e.g. "SUB x 1\r\n") and a PING;
  // on_ready runs at its PONG, when the server has the subscriptions.
  void begin(std::string subscriptions, OnMsg on_msg, std::function<void()> on_ready,
             std::function<void()> on_closed = {});
  StreamConn& stream() noexcept { return *conn_; }

 private:
  std::size_t on_data(std::string_view data);

  std::shared_ptr<StreamConn> conn_;
  OnMsg on_msg_;
  std::function<void()> on_ready_;
  std::function<void()> on_closed_;
  bool ready_ = false;
};

// Connects and begins; blocks until the PONG. Throws on failure or after 10 s.
std::shared_ptr<NatsConn> nats_connect_blocking(boost::asio::io_context& io, int port,
                                                std::string subscriptions, NatsConn::OnMsg on_msg);

// A responder: publishes each request's payload back to its reply subject. `subscription` is
// what follows SUB: "bench.echo echo" (the shared subject, queue group "echo") or "node.7" (one
// node's own subject).
std::shared_ptr<NatsConn> nats_responder(boost::asio::io_context& io, int port,
                                         const std::string& subscription = "bench.echo echo");

// A requester: PUB <subject> with reply subject _INBOX.<tag>.<id>, payload {"id":N,"p":"..."}
// (the raw echo's line, so every baseline carries the same bytes). Requests go round robin over
// `subjects` starting at `first`, as the gateway's callers go over its nodes.
std::shared_ptr<Channel> nats_channel(boost::asio::io_context& io, int port, int tag,
                                      std::string payload,
                                      std::shared_ptr<const std::vector<std::string>> subjects,
                                      std::size_t first = 0);

}  // namespace vespid::bench

namespace vespid::bench {

// Many idle NATS clients (CONNECT, one SUB each, PING), the baseline of the idle and reconnect
// scenarios.
class NatsCrowd {
 public:
  struct Stats {
    std::size_t ready = 0;
    std::size_t failed = 0;
    double all_s = 0;  // from the first connect to the last PONG (or the timeout)
  };
  NatsCrowd(IoPool& pool, int port) : pool_(pool), port_(port) {}
  Stats connect_all(int n, double timeout_s, std::size_t max_connecting = 0);
  void close_all();

 private:
  IoPool& pool_;
  int port_;
  std::vector<std::shared_ptr<NatsConn>> conns_;
};

}  // namespace vespid::bench
