// A minimal in-process host for testing the ws module without the gateway. The test's main
// thread is the "loop thread" (it runs posted tasks while it waits); the transport's own I/O
// threads call the connection services, and a scripted "core" records what they carry, answers
// rest.v1 requests and admits (or refuses) held handshakes. It checks the ABI's rules as it
// goes: conn_closed exactly once and never from inside send/close/admit, nothing after it,
// messages of one connection never delivered concurrently.
#pragma once

#include <vespid/vespid.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace vespid::ws::testing {

class FakeHost;

// The host's view of one connection. vsp_host_conn* points at one of these.
struct FakeConn {
  FakeHost* host = nullptr;
  vsp_plugin_conn* pc = nullptr;
  // conn_info, copied at open
  std::string dialect, peer, local, path, query, headers_json;
  std::optional<std::string> bearer, org_hint;
  uint32_t flags = 0;
  uint32_t info_size = 0;

  // Like the core's per-connection send mutex: send/close/admit hold it, conn_closed takes it.
  std::mutex call_mu;
  bool open = true;                        // under call_mu
  std::atomic<std::thread::id> in_call{};  // the thread inside send/close/admit
  std::atomic<bool> delivering{false};
};

class FakeHost {
 public:
  enum class Admission {
    AcceptInline,  // admit(VSP_OK) from inside conn_open, as an idle core does
    RefuseInline,  // admit(refuse_status, refuse_http_status, refuse_body) from inside conn_open
    Manual,        // the test calls admit()
  };

  FakeHost();
  ~FakeHost();

  int create(const std::string& config_json, std::string* err);
  int start(std::string* err);
  // Calls stop and runs the loop until done (or times out). Returns true if done was called.
  bool stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void destroy();
  bool started() const { return started_; }

  // Runs posted tasks on this thread until pred() holds or the timeout passes.
  bool run_until(const std::function<bool()>& pred,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void run_for(std::chrono::milliseconds d);

  // The core's calls into the transport (any thread).
  int send(FakeConn& c, const std::string& msg);
  void close(FakeConn& c, int code = VSP_OK, const char* reason = nullptr);
  void admit(FakeConn& c, int status, int http_status = 0, const std::string& body = {});

  // ---- scripting (set before the connections it concerns) ----
  std::atomic<Admission> admission{Admission::AcceptInline};
  int refuse_status = VSP_E_PERMISSION;
  int refuse_http_status = 401;
  std::string refuse_body = R"({"error":{"code":"UNAUTHORIZED","message":"bad token"}})";
  std::atomic<bool> refuse_opens{false};
  // Non-rest messages (I/O thread). Default: record only.
  std::function<void(FakeConn&, const std::string&)> on_message;
  // rest.v1 requests (I/O thread): the response JSON, sent inline. Default: 200 echoing the
  // envelope as the body. Return nullopt to answer later with send().
  std::function<std::optional<std::string>(FakeConn&, const std::string&)> rest_responder;
  std::map<std::string, std::string> config;  // config_get answers (JSON text)

  // ---- inspection (thread-safe) ----
  std::vector<FakeConn*> conns();
  FakeConn* wait_conn(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::vector<std::string> received(FakeConn* c);
  std::vector<std::pair<int, std::string>> protocol_errors(FakeConn* c);
  int closed_count(FakeConn* c);
  int closed_status(FakeConn* c);
  std::string closed_reason(FakeConn* c);
  int writable_count(FakeConn* c);
  std::vector<std::string> logs();
  std::vector<std::string> violations();
  uint16_t port();  // from the "listening on" log line
  bool wait(const std::function<bool()>& pred,
            std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return run_until(pred, timeout);
  }

  // ---- the C host table's implementation ----
  void log(int level, const char* msg, size_t len);
  int post(vsp_task_fn fn, void* ctx);
  int config_get(const char* path, vsp_text_sink_fn sink, void* ctx);
  int conn_open(const vsp_conn_info* info, vsp_plugin_conn* pc, vsp_host_conn** out,
                vsp_error* err);
  int conn_recv(FakeConn& c, const char* data, size_t len);
  void conn_closed(FakeConn& c, int status, const char* reason);
  void conn_writable(FakeConn& c);
  void conn_protocol_error(FakeConn& c, int status, const char* message);
  void violation(std::string what);

 private:
  struct Events {
    std::vector<std::string> received;
    std::vector<std::pair<int, std::string>> protocol_errors;
    int closed_count = 0;
    int closed_status = 0;
    std::string closed_reason;
    int writable = 0;
  };

  void run_once(int max_wait_ms);

  const vsp_host_api* api_;
  void* module_ = nullptr;
  const vsp_transport_vtbl* vtbl_ = nullptr;
  vsp_plugin_instance* instance_ = nullptr;
  int wake_[2] = {-1, -1};
  bool started_ = false;

  std::mutex mu_;  // guards everything below
  std::deque<std::pair<vsp_task_fn, void*>> posted_;
  std::vector<std::unique_ptr<FakeConn>> conns_;
  std::map<FakeConn*, Events> events_;
  std::vector<std::string> logs_;
  std::vector<std::string> violations_;
};

}  // namespace vespid::ws::testing
