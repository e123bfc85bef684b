// What every accepted connection is to the transport: the host's handle for it (send, close,
// admit on any thread) and the transport's levers on its own I/O thread (stop, abort).
#pragma once

#include <vespid/vespid.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string_view>

namespace vespid::ws {

using Executor = boost::asio::io_context::executor_type;

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(Executor ex) : ex_(ex) {}
  virtual ~Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  vsp_plugin_conn* handle() noexcept { return reinterpret_cast<vsp_plugin_conn*>(this); }
  static Session* from(vsp_plugin_conn* c) noexcept { return reinterpret_cast<Session*>(c); }

  // The host's calls: any thread, never blocking, never calling back into the host.
  virtual int send(std::string_view message) noexcept = 0;
  virtual void close(int code, const char* reason) noexcept = 0;
  virtual void admit(int status, int http_status, std::string_view body) noexcept {
    (void)status, (void)http_status, (void)body;
  }

  // The transport's, on this session's I/O thread: close gracefully because the instance stops
  // (WebSocket: 1001), or drop the socket now because the stop grace is over.
  virtual void begin_stop() = 0;
  virtual void abort() = 0;

  // The I/O thread that owns this session.
  Executor executor() const noexcept { return ex_; }

 protected:
  Executor ex_;
};

}  // namespace vespid::ws
