// One accepted client of the unix transport: newline framing in (vsp::LineFramer), a bounded
// write queue out (vsp::SendQueue; both from the SDK). Reading, writing and closing happen on the
// host's loop thread; send() and request_close() may be called from any thread and only hand work
// to the loop through host.post(), or write to an idle socket at once.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vespid/line_framer.hpp>
#include <vespid/plugin.hpp>
#include <vespid/send_queue.hpp>

namespace vespid::unix_transport {

struct ConnLimits {
  std::size_t max_message_bytes;
  std::size_t send_queue_bytes;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Called on the loop thread right after conn_closed, so the owner can drop its reference.
  using FinishedFn = std::function<void(Connection*)>;

  Connection(vsp::Host host, int fd, ConnLimits limits, FinishedFn on_finished);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  vsp_plugin_conn* handle() noexcept { return reinterpret_cast<vsp_plugin_conn*>(this); }
  static Connection* from(vsp_plugin_conn* c) noexcept { return reinterpret_cast<Connection*>(c); }

  // Loop thread, once, after conn_open succeeded: starts reading.
  void attach(vsp_host_conn* host_conn);

  // Any thread (the host's `send`): queues one message plus its newline terminator.
  int send(std::string_view message) noexcept;
  // Any thread (the host's `send_batch`): the same for `count` messages, written together.
  int send_batch(const vsp_msg* msgs, std::size_t count) noexcept;
  // Any thread (the host's `close`): flush best effort, then close and report conn_closed.
  void request_close(int code) noexcept;

  // Loop thread, outside any callback of this connection: the same as request_close() without
  // the hop through post(). Used when the transport stops.
  void close_on_loop(int code, const char* reason);

  // Loop thread: drops the socket without telling the host. For a failed conn_open (the host
  // never knew the connection) and for destroy without a completed stop (the host gave up).
  void abandon() noexcept;

 private:
  void on_ready(uint32_t revents);
  void read_input();
  void deliver_lines(const char* data, std::size_t n);
  void on_peer_eof();
  void protocol_overflow();
  void flush();
  void update_watch();
  void run_close(int code, const char* reason);
  void schedule_finish(int status, std::string reason);
  void finish(int status, const std::string& reason);

  vsp::Host host_;
  const ConnLimits limits_;
  FinishedFn on_finished_;

  // Loop thread only.
  int fd_;
  vsp_host_conn* host_conn_ = nullptr;
  std::unique_ptr<vsp::Watch> watch_;
  std::unique_ptr<vsp::Timer> linger_;
  // Keeps a '\r' before the '\n' in the message, as this transport always has.
  vsp::LineFramer framer_;
  bool reading_ = true;
  bool closing_ = false;
  int close_code_ = VSP_OK;  // what conn_closed reports once a requested close completes
  std::string close_reason_;
  bool finish_scheduled_ = false;
  bool finished_ = false;
  uint32_t watched_ = 0;

  // The host's loop thread (where this connection was accepted and does all its I/O).
  const std::thread::id loop_thread_ = std::this_thread::get_id();

  // Any thread, under the queue's own mutex (see send_queue.hpp): the output, the limits, the
  // busy/writable accounting and the close request.
  vsp::SendQueue out_;
};

}  // namespace vespid::unix_transport
