// One byte-stream socket (TCP or Unix, optionally TLS on the client side) with client-side write
// coalescing: everything sent while a write is in flight, or within one loop turn, leaves in the
// next single write. All calls must come from the socket's own io_context thread.
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace vespid::bench {

class TlsClient;

class StreamConn : public std::enable_shared_from_this<StreamConn> {
 public:
  using Endpoint = boost::asio::generic::stream_protocol::endpoint;
  // Gets every unconsumed byte received so far; returns how many it consumed (whole frames).
  using OnData = std::function<std::size_t(std::string_view)>;
  // Called once when the connection ends: an error, the peer's close, or close().
  using OnClose = std::function<void(const boost::system::error_code&)>;

  explicit StreamConn(boost::asio::io_context& io);
  ~StreamConn();

  boost::asio::io_context& io() noexcept { return io_; }

  // Before connect(): speak TLS over the connection, verified as `tls` says. connect() then
  // completes only after the TLS handshake (its error, if it fails, is the handshake's).
  void use_tls(std::shared_ptr<TlsClient> tls);
  // Connects, then reads until the connection ends. TCP sockets get TCP_NODELAY.
  void connect(const Endpoint& ep, std::function<void(const boost::system::error_code&)> done);
  // Adopts an accepted socket.
  void adopt(boost::asio::generic::stream_protocol::socket socket);
  void start(OnData on_data, OnClose on_close);

  // Queues bytes; they go out with the rest of this loop turn's output.
  void send(std::string_view bytes);
  // The pending output buffer, to append to without a copy; call flush_soon() after.
  std::string& out() noexcept { return pending_; }
  void flush_soon();

  // A reader that stops reading (the slow consumers of the soak): while paused, no read is
  // started, so the peer's writes back up into the kernel's buffers and then its own queue.
  // The read already in flight, if any, still completes and is delivered.
  void pause_reading() { paused_ = true; }
  void resume_reading();
  bool reading_paused() const noexcept { return paused_; }
  // Reads at most this many bytes at a time (0: no cap, the default).
  void set_max_read(std::size_t bytes) { max_read_ = bytes; }
  // SO_RCVBUF for the next connect() (0: the system's default); a small one makes a reader
  // that pauses push back on the peer sooner.
  void set_receive_buffer(int bytes) { rcvbuf_ = bytes; }

  // Closes at once (RST-free: a plain close) and calls on_close.
  void close();
  bool open() const noexcept { return open_; }

 private:
  void read_more();
  void write_now();
  void finish(const boost::system::error_code& ec);

  struct Tls;  // the TLS stream over socket_, when use_tls() was called

  boost::asio::io_context& io_;
  boost::asio::generic::stream_protocol::socket socket_;
  std::shared_ptr<TlsClient> tls_client_;
  std::unique_ptr<Tls> tls_;
  OnData on_data_;
  OnClose on_close_;
  std::string in_;
  std::size_t in_used_ = 0;
  std::string pending_;
  std::string writing_;
  bool writing_now_ = false;
  bool flush_posted_ = false;
  bool open_ = false;
  bool finished_ = false;
  bool paused_ = false;
  bool read_parked_ = false;  // paused with no read in flight: resume_reading() starts one
  std::size_t max_read_ = 0;
  int rcvbuf_ = 0;
};

// Endpoints for the two kinds of socket the bench opens.
StreamConn::Endpoint tcp_endpoint(const std::string& ip, int port);
StreamConn::Endpoint unix_endpoint(const std::string& path);

// Calls f(line) for each complete '\n'-terminated line in data (without the '\n' or a trailing
// '\r'; empty lines skipped); returns the bytes consumed.
template <typename F>
std::size_t for_each_line(std::string_view data, F&& f) {
  std::size_t start = 0;
  while (true) {
    const std::size_t nl = data.find('\n', start);
    if (nl == std::string_view::npos) return start;
    std::string_view line = data.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) f(line);
    start = nl + 1;
  }
}

}  // namespace vespid::bench
