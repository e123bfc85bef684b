// A minimal in-process host for testing the bridge module without the gateway. The test's own
// thread is the host's loop thread: it makes the lifecycle calls and runs posted tasks while it
// waits (wait_for). The transport's I/O threads call conn_* directly; this host records what they
// say and checks the ABI's promises: conn_closed once, never from inside send/close, no conn_recv
// after it, one thread per connection.
#pragma once

#include <vespid/vespid.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace vespid::bridge::testing {

class FakeHost;

// The host's view of one connection. vsp_host_conn* points at one of these.
struct FakeConn {
  FakeHost* host = nullptr;
  vsp_plugin_conn* pc = nullptr;
  // conn_open's facts (written once before the connection is published).
  std::string dialect, peer, local;
  uint32_t flags = 0;
  uint32_t info_size = 0;
  bool handshake_fields_null = false;  // bearer, org, path, query, headers all NULL
  std::thread::id io_thread;

  std::mutex send_mu;  // as the core: send and close for one connection never run concurrently

  // Guarded by FakeHost::mu_; read them through FakeHost's accessors.
  std::vector<std::string> received;
  int protocol_errors = 0;
  int protocol_status = 0;
  std::string protocol_message;
  int closed_count = 0;
  int closed_status = 0;
  std::string closed_reason;
  int writable_calls = 0;
};

class FakeHost {
 public:
  explicit FakeHost(std::map<std::string, std::string> gateway_config = {},
                    std::string state_dir = "/nonexistent-vespid-state");
  ~FakeHost();
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  // Loads the module (once per process) and creates an instance; *err gets the message.
  int create(const std::string& config_json, std::string* err = nullptr);
  int start(std::string* err = nullptr);
  // Calls stop and runs posted tasks until done (or the timeout). True if done was called.
  bool stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void destroy();

  // Runs posted tasks on this thread until pred() holds or the timeout passes.
  bool wait_for(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // The scripted core. Runs on the transport's I/O thread, inside conn_recv / conn_protocol_error.
  std::function<void(FakeConn&, const std::string&)> on_message;
  std::function<void(FakeConn&, int, const std::string&)> on_protocol_error;

  // The host's calls into the transport, serialised per connection as the core does.
  int send(FakeConn& c, std::string_view message);
  void close(FakeConn& c, int code = VSP_OK);

  std::size_t conn_count();
  FakeConn* conn(std::size_t i);  // in order of conn_open
  std::vector<std::string> received(FakeConn& c);
  int closed_count(FakeConn& c);
  int closed_status(FakeConn& c);
  std::string closed_reason(FakeConn& c);
  int protocol_errors(FakeConn& c);
  int protocol_status(FakeConn& c);
  std::string protocol_message(FakeConn& c);
  int writable_calls(FakeConn& c);

  std::vector<std::string> logs();
  bool logged(std::string_view needle);
  std::vector<std::string> violations();

  std::atomic<int> refuse_opens{0};
  const std::string state_dir;
  // How many connections had reported conn_closed when the transport called stop's done.
  int closed_when_done = -1;

  // ---- the C host table's implementation ----
  void log(int level, const char* msg, size_t len);
  int config_get(const char* path, vsp_text_sink_fn sink, void* ctx);
  int post(vsp_task_fn fn, void* ctx);
  int conn_open(const vsp_conn_info* info, vsp_plugin_conn* pc, vsp_host_conn** out,
                vsp_error* err);
  int conn_recv(FakeConn& c, const char* data, size_t len);
  void conn_closed(FakeConn& c, int status, const char* reason);
  void conn_writable(FakeConn& c);
  void conn_protocol_error(FakeConn& c, int status, const char* message);

 private:
  void violation(std::string what);
  void check_thread(FakeConn& c, const char* call);
  void run_posted();

  const std::map<std::string, std::string> gateway_config_;
  const vsp_transport_vtbl* vtbl_ = nullptr;
  vsp_plugin_instance* instance_ = nullptr;

  std::mutex mu_;  // guards everything below and FakeConn's recorded fields
  std::deque<std::pair<vsp_task_fn, void*>> posted_;
  std::vector<std::unique_ptr<FakeConn>> conns_;
  std::vector<std::string> logs_;
  std::vector<std::string> violations_;
};

}  // namespace vespid::bridge::testing
