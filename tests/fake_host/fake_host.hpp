// A minimal in-process host for testing a transport module without the gateway, shared by the
// transport plugins' test suites. The test's own thread is the host's "loop thread": while it
// waits (run_until, run_for) it polls the fd watches, fires the timers and runs posted tasks. The
// transport's own threads, if it has any, call the connection services directly; a scripted
// "core" records what they carry, answers rest.v1 requests and admits (or refuses) held
// handshakes.
//
// It checks the ABI's promises as it goes and reports every breach both as a gtest failure and
// in violations(): conn_closed exactly once and never from inside send/close/admit, nothing for a
// connection after its conn_closed, messages of one connection never delivered concurrently,
// stop's done called once, io_thread_run and io_thread_end on the thread that registered;
// optionally (Options), every call for one connection on the thread
// that opened it and no host timers or fd watches at all.
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
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace vespid::testing {

class FakeHost;

// The host's view of one connection. vsp_host_conn* points at one of these. The facts are
// written once, before the connection is published; what the transport reports afterwards is
// read through FakeHost's accessors.
struct FakeConn {
  FakeHost* host = nullptr;
  vsp_plugin_conn* pc = nullptr;
  // vsp_conn_info, copied at conn_open (NULL strings become "" or nullopt)
  std::string dialect, peer, local, path, query, headers_json;
  std::optional<std::string> bearer, org_hint;
  uint32_t flags = 0;
  uint32_t info_size = 0;
  bool handshake_fields_null = false;        // bearer, org, path, query, headers all NULL
  std::thread::id io_thread;                 // the thread that called conn_open
  bool opened_on_registered_thread = false;  // that thread had called io_thread_begin

 private:
  friend class FakeHost;
  // Like the core's per-connection send mutex: send/close/admit hold it, conn_closed takes it.
  std::mutex call_mu;
  bool open = true;                        // under call_mu
  std::atomic<std::thread::id> in_call{};  // the thread inside send/close/admit
  std::atomic<bool> delivering{false};     // inside conn_recv / conn_protocol_error

  // Guarded by FakeHost::mu_.
  std::vector<std::string> received;
  std::vector<std::pair<int, std::string>> protocol_errors;
  int closed_count = 0;
  int closed_status = 0;
  std::string closed_reason;
  int writable_calls = 0;
};

class FakeHost {
 public:
  struct Options {
    // The module to dlopen and the transport it must hold (loaded once per process).
    std::string module_path;
    std::string plugin_id;
    std::string module_name;     // vsp_module_info::name, checked when not empty
    bool require_admit = false;  // the transport's table must have `admit`
    // What the host table answers.
    std::string instance_name = "test";
    std::string state_dir = "/nonexistent-vespid-state";
    // Stricter than the ABI, for transports that promise it.
    bool one_thread_per_conn = false;     // every conn_* call on the thread of conn_open
    bool host_timers_and_watches = true;  // false: timer_new / watch_new are violations
  };

  enum class Admission {
    AcceptInline,  // admit(VSP_OK, 101) from inside conn_open, as an idle core does
    RefuseInline,  // admit(refuse_status, refuse_http_status, refuse_body) inside conn_open
    Manual,        // the test calls admit()
  };

  explicit FakeHost(Options options);
  virtual ~FakeHost();
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  // ---- lifecycle (loop thread) ----
  // Creates an instance; *err gets the message.
  int create(const std::string& config_json, std::string* err = nullptr);
  int start(std::string* err = nullptr);
  // Calls stop and runs the loop until done (or the timeout). True if done was called.
  bool stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void destroy();
  bool started() const { return started_; }

  // Runs the loop on this thread until pred() holds or the timeout passes.
  bool run_until(const std::function<bool()>& pred,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void run_for(std::chrono::milliseconds d);

  // ---- the core's calls into the transport (any thread; serialised per connection) ----
  // Once the transport has reported conn_closed, send answers VSP_E_CLOSED and close/admit do
  // nothing, without calling the transport (as the core does).
  int send(FakeConn& c, std::string_view message);
  void close(FakeConn& c, int code = VSP_OK, const char* reason = nullptr);
  void admit(FakeConn& c, int status, int http_status = 0, std::string_view body = {});

  // ---- scripting (set before the connections it concerns) ----
  // Called inside conn_recv, on the transport's thread. Default: record only.
  std::function<void(FakeConn&, const std::string&)> on_message;
  // rest.v1 requests (inside conn_recv): the response JSON, sent at once, or nullopt to answer
  // later with send(). Unset: rest.v1 requests go to on_message like any other.
  std::function<std::optional<std::string>(FakeConn&, const std::string&)> rest_responder;
  // Called inside conn_protocol_error (the core answers and closes). Default: record only.
  std::function<void(FakeConn&, int, const std::string&)> on_protocol_error;
  std::atomic<Admission> admission{Admission::AcceptInline};
  int refuse_status = VSP_E_PERMISSION;
  int refuse_http_status = 401;
  std::string refuse_body = R"({"error":{"code":"UNAUTHORIZED","message":"bad token"}})";
  std::atomic<bool> refuse_opens{false};      // conn_open fails while set
  std::map<std::string, std::string> config;  // config_get answers (JSON text)

  // ---- inspection (any thread) ----
  std::vector<FakeConn*> conns();  // in order of conn_open
  FakeConn* conn(std::size_t i);   // nullptr if there are not that many
  // Runs the loop until `n` connections are open; the n-th (1-based), or nullptr.
  FakeConn* wait_conn(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::vector<std::string> received(FakeConn& c);
  std::vector<std::pair<int, std::string>> protocol_errors(FakeConn& c);
  int protocol_status(FakeConn& c);           // of the last protocol error, 0 if none
  std::string protocol_message(FakeConn& c);  // of the last protocol error, "" if none
  bool closed(FakeConn& c);
  int closed_count(FakeConn& c);
  int closed_status(FakeConn& c);
  std::string closed_reason(FakeConn& c);
  int writable_calls(FakeConn& c);
  std::vector<std::string> logs();
  bool logged(std::string_view needle);
  std::vector<std::string> violations();
  // Reply batches (host->batch_begin/batch_end, outermost pairs only) begun and ended so far.
  uint64_t batches_begun() const { return batches_begun_.load(); }
  uint64_t batches_ended() const { return batches_ended_.load(); }
  // On the calling thread (inside conn_recv, say): the serial number of the outermost batch open
  // now, unique across hosts and threads; 0 outside a batch.
  static uint64_t current_batch() noexcept;
  // I/O threads registered with io_thread_begin and not yet ended.
  std::size_t io_threads();
  // Calls every registered thread's wake once; how many took it (returned VSP_OK).
  int wake_io_threads();
  // io_thread_run calls so far. One on another thread than its registration's, a second
  // registration of one thread, or an end on another thread is a violation.
  uint64_t io_thread_runs() const { return io_thread_runs_.load(); }
  // How many conn_closed calls had arrived when the transport called stop's done (-1: not yet).
  int closed_when_done() const { return closed_when_done_.load(); }

  // ---- the C host table's implementation ----
  void log(int level, const char* msg, size_t len);
  int config_get(const char* path, vsp_text_sink_fn sink, void* ctx);
  int post(vsp_task_fn fn, void* ctx);
  vsp_host_timer* timer_new(vsp_timer_fn fn, void* ctx);
  vsp_host_watch* watch_new(int fd, uint32_t events, vsp_watch_fn fn, void* ctx);
  int conn_open(const vsp_conn_info* info, vsp_plugin_conn* pc, vsp_host_conn** out,
                vsp_error* err);
  int conn_recv(FakeConn& c, const char* data, size_t len);
  void conn_closed(FakeConn& c, int status, const char* reason);
  void conn_writable(FakeConn& c);
  void conn_protocol_error(FakeConn& c, int status, const char* message);
  void batch_begin();
  void batch_end();
  vsp_host_io_thread* io_thread_begin(vsp_wake_fn wake, void* ctx);
  void io_thread_run(vsp_host_io_thread* t);
  void io_thread_end(vsp_host_io_thread* t);
  void violation(std::string what);

  const Options options;

 private:
  void run_once(int max_wait_ms);
  void run_posted();
  void check_thread(FakeConn& c, const char* call);
  void stop_done();

  const vsp_transport_vtbl* vtbl_ = nullptr;
  vsp_plugin_instance* instance_ = nullptr;
  int wake_[2] = {-1, -1};
  bool started_ = false;
  std::atomic<bool> stop_done_{false};
  std::atomic<int> closed_when_done_{-1};
  std::atomic<uint64_t> batches_begun_{0};
  std::atomic<uint64_t> batches_ended_{0};
  std::atomic<uint64_t> io_thread_runs_{0};

  // Loop thread only.
  std::vector<vsp_host_watch*> watches_;
  std::vector<vsp_host_timer*> timers_;

  std::mutex mu_;  // guards everything below and FakeConn's recorded fields
  std::deque<std::pair<vsp_task_fn, void*>> posted_;
  std::vector<std::unique_ptr<FakeConn>> conns_;
  std::vector<std::string> logs_;
  std::vector<std::string> violations_;
  std::vector<std::unique_ptr<vsp_host_io_thread>> io_threads_;
};

}  // namespace vespid::testing
