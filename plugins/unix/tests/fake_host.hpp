// A minimal in-process host for testing the unix transport module without the gateway: a poll()
// loop on the calling thread (the "loop thread"), post() from any thread, timers, fd watches,
// and a scripted "core" that records what the transport hands it.
#pragma once

#include <vespid/vespid.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct vsp_host_timer {
  vsp_timer_fn fn;
  void* ctx;
  bool armed = false;
  std::chrono::steady_clock::time_point due;
  uint64_t repeat_ms = 0;
  bool freed = false;
};

struct vsp_host_watch {
  int fd;
  uint32_t events;
  vsp_watch_fn fn;
  void* ctx;
  bool freed = false;
};

namespace vespid::unix_transport::testing {

class FakeHost;

// The host's view of one connection. vsp_host_conn* points at one of these.
struct FakeConn {
  FakeHost* host = nullptr;
  vsp_plugin_conn* pc = nullptr;
  std::string dialect, peer, local;
  uint32_t flags = 0;
  std::vector<std::string> received;
  std::string protocol_error;
  int protocol_status = 0;
  std::atomic<bool> closed{false};
  int closed_status = 0;
  std::string closed_reason;
};

class FakeHost {
 public:
  explicit FakeHost(std::string state_dir);
  ~FakeHost();

  // Loads the module and creates an instance. Returns the status; *err gets the message.
  int create(const std::string& config_json, std::string* err);
  int start(std::string* err);
  // Calls stop and runs the loop until done (or times out). Returns true if done was called.
  bool stop(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void destroy();

  // Runs the loop on this thread until pred() holds or the timeout passes.
  bool run_until(const std::function<bool()>& pred,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void run_for(std::chrono::milliseconds d);

  // The scripted core: called on the loop thread for each message (default: echo it back).
  std::function<void(FakeConn&, const std::string&)> on_message;

  int send(FakeConn& c, const std::string& msg);
  void close(FakeConn& c, int code = VSP_OK);

  std::vector<FakeConn*> conns();
  std::vector<std::string> logs();
  int refuse_opens = 0;  // conn_open fails while this is non-zero

  // ---- the C host table's implementation ----
  void log(int level, const char* msg, size_t len);
  int post(vsp_task_fn fn, void* ctx);
  vsp_host_timer* timer_new(vsp_timer_fn fn, void* ctx);
  vsp_host_watch* watch_new(int fd, uint32_t events, vsp_watch_fn fn, void* ctx);
  void watch_free(vsp_host_watch* w);
  void timer_free(vsp_host_timer* t);
  int conn_open(const vsp_conn_info* info, vsp_plugin_conn* pc, vsp_host_conn** out,
                vsp_error* err);
  int conn_recv(FakeConn& c, const char* data, size_t len);
  void conn_closed(FakeConn& c, int status, const char* reason);
  void conn_protocol_error(FakeConn& c, int status, const char* message);

  const std::string state_dir;
  std::atomic<int> writable_calls{0};

 private:
  void run_once(int max_wait_ms);

  const vsp_host_api* api_;
  void* module_ = nullptr;
  const vsp_transport_vtbl* vtbl_ = nullptr;
  vsp_plugin_instance* instance_ = nullptr;
  int wake_[2] = {-1, -1};
  bool dispatching_ = false;

  std::mutex mu_;  // guards posted_, conns_, logs_
  std::deque<std::pair<vsp_task_fn, void*>> posted_;
  std::vector<std::unique_ptr<FakeConn>> conns_;
  std::vector<std::string> logs_;

  std::vector<vsp_host_watch*> watches_;
  std::vector<vsp_host_timer*> timers_;
  std::vector<vsp_host_watch*> dead_watches_;
  std::vector<vsp_host_timer*> dead_timers_;
};

}  // namespace vespid::unix_transport::testing
