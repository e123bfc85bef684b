#include "fake_host.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

// The host's timer and watch handles (opaque to plugins). Freed ones are only marked: the loop
// sweeps them between rounds, never while it dispatches.
struct vsp_host_timer {
  vsp_timer_fn fn;
  void* ctx;
  bool armed = false;
  std::chrono::steady_clock::time_point due{};
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

// A transport thread's registration (io_thread_begin), owned by FakeHost until io_thread_end.
struct vsp_host_io_thread {
  vespid::testing::FakeHost* host;
  std::thread::id thread;
  vsp_wake_fn wake;
  void* ctx;
};

namespace vespid::testing {

namespace {

using Clock = std::chrono::steady_clock;

FakeHost* H(vsp_host_instance* hi) {
  return reinterpret_cast<FakeHost*>(hi);
}
FakeConn* C(vsp_host_conn* c) {
  return reinterpret_cast<FakeConn*>(c);
}

const vsp_host_api kApi = {
    sizeof(vsp_host_api),
    VSP_ABI_MAJOR,
    VSP_ABI_MINOR,
    [](vsp_host_instance* hi, int level, const char* msg, size_t len) {
      H(hi)->log(level, msg, len);
    },
    [](vsp_host_instance* hi, int, const char* message) {
      H(hi)->log(VSP_LOG_ERROR, message, std::strlen(message));
    },
    [](vsp_host_instance* hi) -> const char* { return H(hi)->options.instance_name.c_str(); },
    [](vsp_host_instance* hi) -> const char* { return H(hi)->options.state_dir.c_str(); },
    [](vsp_host_instance* hi, const char* path, vsp_text_sink_fn sink, void* ctx) -> int {
      return H(hi)->config_get(path, sink, ctx);
    },
    [](vsp_host_instance* hi, vsp_task_fn fn, void* ctx) { return H(hi)->post(fn, ctx); },
    [](vsp_host_instance* hi, vsp_timer_fn fn, void* ctx) { return H(hi)->timer_new(fn, ctx); },
    [](vsp_host_timer* t, uint64_t delay_ms, uint64_t repeat_ms) {
      t->armed = true;
      t->due = Clock::now() + std::chrono::milliseconds(delay_ms);
      t->repeat_ms = repeat_ms;
    },
    [](vsp_host_timer* t) { t->armed = false; },
    [](vsp_host_timer* t) {
      t->armed = false;
      t->freed = true;
    },
    [](vsp_host_instance* hi, int fd, uint32_t events, vsp_watch_fn fn, void* ctx) {
      return H(hi)->watch_new(fd, events, fn, ctx);
    },
    [](vsp_host_watch* w, uint32_t events) { w->events = events; },
    [](vsp_host_watch* w) { w->freed = true; },
    [](vsp_host_instance* hi, const vsp_conn_info* info, vsp_plugin_conn* pc, vsp_host_conn** out,
       vsp_error* err) { return H(hi)->conn_open(info, pc, out, err); },
    [](vsp_host_conn* c, const char* data, size_t len) {
      return C(c)->host->conn_recv(*C(c), data, len);
    },
    [](vsp_host_conn* c, int status, const char* reason) {
      C(c)->host->conn_closed(*C(c), status, reason);
    },
    [](vsp_host_conn* c) { C(c)->host->conn_writable(*C(c)); },
    [](vsp_host_conn* c, int status, const char* message) {
      C(c)->host->conn_protocol_error(*C(c), status, message);
    },
    nullptr,  // bind_watch
    nullptr,  // bind_unwatch
    nullptr,  // listener_update
    [](vsp_host_instance* hi) { H(hi)->batch_begin(); },
    [](vsp_host_instance* hi) { H(hi)->batch_end(); },
    [](vsp_host_instance* hi, vsp_wake_fn wake, void* ctx) {
      return H(hi)->io_thread_begin(wake, ctx);
    },
    [](vsp_host_io_thread* t) { t->host->io_thread_run(t); },
    [](vsp_host_io_thread* t) { t->host->io_thread_end(t); },
};

// The reply batch open on this thread (host->batch_begin/batch_end): nesting depth, and the
// serial number of the outermost one.
thread_local int t_batch_depth = 0;
thread_local uint64_t t_batch_serial = 0;
std::atomic<uint64_t> g_batch_serials{0};

// Modules are never unloaded: each is loaded once per process and its table checked then.
const vsp_transport_vtbl* load_module(const FakeHost::Options& o) {
  static std::mutex mu;
  static std::map<std::string, const vsp_transport_vtbl*> loaded;
  std::lock_guard lock(mu);
  if (auto it = loaded.find(o.module_path); it != loaded.end()) return it->second;
  void* module = ::dlopen(o.module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) throw std::runtime_error(::dlerror());
  auto query = reinterpret_cast<vsp_module_query_fn>(::dlsym(module, VSP_MODULE_QUERY_SYMBOL));
  if (query == nullptr) throw std::runtime_error("no vsp_module_query in " + o.module_path);
  const vsp_module_info* info = query(VSP_ABI_MAJOR, VSP_ABI_MINOR);
  if (info == nullptr || info->plugin_count != 1 || info->plugins[0].kind != VSP_KIND_TRANSPORT ||
      std::strcmp(info->plugins[0].id, o.plugin_id.c_str()) != 0 ||
      (!o.module_name.empty() && std::strcmp(info->name, o.module_name.c_str()) != 0) ||
      info->plugins[0].vtbl_size != sizeof(vsp_transport_vtbl)) {
    throw std::runtime_error("unexpected module info in " + o.module_path);
  }
  const auto* vtbl = static_cast<const vsp_transport_vtbl*>(info->plugins[0].vtbl);
  if (o.require_admit && vtbl->admit == nullptr) {
    throw std::runtime_error("the " + o.plugin_id + " transport must have admit");
  }
  loaded.emplace(o.module_path, vtbl);
  return vtbl;
}

std::string opt(const char* s) {
  return s ? s : "";
}

// Marks the current thread as inside send/close/admit of `c` for the scope.
struct InCall {
  std::atomic<std::thread::id>& slot;
  explicit InCall(std::atomic<std::thread::id>& s) : slot(s) { slot = std::this_thread::get_id(); }
  ~InCall() { slot = std::thread::id(); }
};

// Marks a delivery (conn_recv, conn_protocol_error) of one connection for the scope.
struct Delivery {
  std::atomic<bool>& flag;
  Delivery(FakeHost& host, std::atomic<bool>& f, const char* call) : flag(f) {
    if (flag.exchange(true)) {
      host.violation(std::string(call) + " concurrently with another delivery for one connection");
    }
  }
  ~Delivery() { flag = false; }
};

}  // namespace

FakeHost::FakeHost(Options o) : options(std::move(o)) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2");
}

FakeHost::~FakeHost() {
  destroy();
  // As the gateway does at shutdown: tasks already posted still run (they must cope with a
  // destroyed instance).
  run_posted();
  for (auto* w : watches_) delete w;
  for (auto* t : timers_) delete t;
  ::close(wake_[0]);
  ::close(wake_[1]);
}

// ---- lifecycle ----

int FakeHost::create(const std::string& config_json, std::string* err) {
  vtbl_ = load_module(options);
  vsp_error e{};
  e.struct_size = sizeof e;
  const int rc = vtbl_->life.create(&kApi, reinterpret_cast<vsp_host_instance*>(this),
                                    config_json.data(), config_json.size(), &instance_, &e);
  if (err) *err = e.message;
  return rc;
}

int FakeHost::start(std::string* err) {
  vsp_error e{};
  e.struct_size = sizeof e;
  const int rc = vtbl_->life.start(instance_, &e);
  if (err) *err = e.message;
  started_ = rc == VSP_OK;
  return rc;
}

void FakeHost::stop_done() {
  if (stop_done_.exchange(true)) violation("stop's done called twice");
  std::lock_guard lock(mu_);
  int closed = 0;
  for (auto& c : conns_) closed += c->closed_count;
  closed_when_done_ = closed;
}

bool FakeHost::stop(std::chrono::milliseconds timeout) {
  stop_done_ = false;
  vtbl_->life.stop(
      instance_, [](void* ctx) { static_cast<FakeHost*>(ctx)->stop_done(); }, this);
  started_ = false;
  return run_until([&] { return stop_done_.load(); }, timeout);
}

void FakeHost::destroy() {
  if (instance_ != nullptr) vtbl_->life.destroy(instance_);
  instance_ = nullptr;
  started_ = false;
}

// ---- the loop ----

void FakeHost::run_posted() {
  std::deque<std::pair<vsp_task_fn, void*>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(posted_);
  }
  for (auto& [fn, ctx] : tasks) fn(ctx);
}

void FakeHost::run_once(int max_wait_ms) {
  // Sweep handles freed since the last round (never during dispatch).
  std::erase_if(watches_, [](vsp_host_watch* w) {
    const bool freed = w->freed;
    if (freed) delete w;
    return freed;
  });
  std::erase_if(timers_, [](vsp_host_timer* t) {
    const bool freed = t->freed;
    if (freed) delete t;
    return freed;
  });

  auto now = Clock::now();
  int wait = max_wait_ms;
  for (auto* t : timers_) {
    if (t->armed) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->due - now).count();
      wait = std::min<int>(wait, static_cast<int>(std::max<long long>(ms, 0)));
    }
  }
  {
    std::lock_guard lock(mu_);
    if (!posted_.empty()) wait = 0;
  }

  std::vector<pollfd> fds;
  std::vector<vsp_host_watch*> ws;
  fds.push_back({wake_[0], POLLIN, 0});
  for (auto* w : watches_) {
    short ev = 0;
    if (w->events & VSP_WATCH_READ) ev |= POLLIN;
    if (w->events & VSP_WATCH_WRITE) ev |= POLLOUT;
    fds.push_back({w->fd, ev, 0});
    ws.push_back(w);
  }
  ::poll(fds.data(), fds.size(), wait);
  char drain[256];
  while (::read(wake_[0], drain, sizeof drain) > 0) {
  }

  for (std::size_t i = 0; i < ws.size(); ++i) {
    auto* w = ws[i];
    const short re = fds[i + 1].revents;
    if (w->freed || re == 0) continue;
    uint32_t r = 0;
    if (re & POLLIN) r |= VSP_WATCH_READ;
    if (re & POLLOUT) r |= VSP_WATCH_WRITE;
    if (re & POLLERR) r |= VSP_WATCH_ERROR;
    if (re & POLLHUP) r |= VSP_WATCH_HUP;
    r &= (w->events | VSP_WATCH_ERROR | VSP_WATCH_HUP);
    if (r) w->fn(w, w->fd, r, w->ctx);
  }

  now = Clock::now();
  for (std::size_t i = 0; i < timers_.size(); ++i) {
    auto* t = timers_[i];
    if (t->freed || !t->armed || t->due > now) continue;
    if (t->repeat_ms) {
      t->due = now + std::chrono::milliseconds(t->repeat_ms);
    } else {
      t->armed = false;
    }
    t->fn(t, t->ctx);
  }

  run_posted();
}

bool FakeHost::run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    run_once(2);
  }
  return true;
}

void FakeHost::run_for(std::chrono::milliseconds d) {
  const auto deadline = Clock::now() + d;
  while (Clock::now() < deadline) run_once(2);
}

// ---- the core's calls into the transport ----

int FakeHost::send(FakeConn& c, std::string_view message) {
  std::lock_guard lock(c.call_mu);
  if (!c.open) return VSP_E_CLOSED;
  InCall in(c.in_call);
  return vtbl_->send(instance_, c.pc, message.data(), message.size());
}

void FakeHost::close(FakeConn& c, int code, const char* reason) {
  std::lock_guard lock(c.call_mu);
  if (!c.open) return;
  InCall in(c.in_call);
  vtbl_->close(instance_, c.pc, code, reason);
}

void FakeHost::admit(FakeConn& c, int status, int http_status, std::string_view body) {
  if (vtbl_->admit == nullptr) {
    violation("admit called for a transport without admit");
    return;
  }
  std::lock_guard lock(c.call_mu);
  if (!c.open) return;  // the core never admits a connection the transport has closed
  InCall in(c.in_call);
  vtbl_->admit(instance_, c.pc, status, http_status, body.data(), body.size());
}

// ---- inspection ----

std::vector<FakeConn*> FakeHost::conns() {
  std::lock_guard lock(mu_);
  std::vector<FakeConn*> out;
  for (auto& c : conns_) out.push_back(c.get());
  return out;
}

FakeConn* FakeHost::conn(std::size_t i) {
  std::lock_guard lock(mu_);
  return i < conns_.size() ? conns_[i].get() : nullptr;
}

FakeConn* FakeHost::wait_conn(std::size_t n, std::chrono::milliseconds timeout) {
  run_until([&] { return conns().size() >= n; }, timeout);
  return n > 0 ? conn(n - 1) : nullptr;
}

std::vector<std::string> FakeHost::received(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.received;
}

std::vector<std::pair<int, std::string>> FakeHost::protocol_errors(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.protocol_errors;
}

int FakeHost::protocol_status(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.protocol_errors.empty() ? 0 : c.protocol_errors.back().first;
}

std::string FakeHost::protocol_message(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.protocol_errors.empty() ? std::string() : c.protocol_errors.back().second;
}

bool FakeHost::closed(FakeConn& c) {
  return closed_count(c) > 0;
}

int FakeHost::closed_count(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.closed_count;
}

int FakeHost::closed_status(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.closed_status;
}

std::string FakeHost::closed_reason(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.closed_reason;
}

int FakeHost::writable_calls(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.writable_calls;
}

std::vector<std::string> FakeHost::logs() {
  std::lock_guard lock(mu_);
  return logs_;
}

bool FakeHost::logged(std::string_view needle) {
  std::lock_guard lock(mu_);
  return std::any_of(logs_.begin(), logs_.end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

std::vector<std::string> FakeHost::violations() {
  std::lock_guard lock(mu_);
  return violations_;
}

void FakeHost::violation(std::string what) {
  ADD_FAILURE() << "ABI violation by the " << options.plugin_id << " transport: " << what;
  std::lock_guard lock(mu_);
  violations_.push_back(std::move(what));
}

// ---- the host table ----

void FakeHost::log(int, const char* msg, size_t len) {
  std::lock_guard lock(mu_);
  logs_.emplace_back(msg, len);
}

int FakeHost::config_get(const char* path, vsp_text_sink_fn sink, void* ctx) {
  auto it = config.find(path);
  if (it == config.end()) return VSP_E_NOT_FOUND;
  sink(ctx, it->second.data(), it->second.size());
  return VSP_OK;
}

int FakeHost::post(vsp_task_fn fn, void* ctx) {
  {
    std::lock_guard lock(mu_);
    posted_.emplace_back(fn, ctx);
  }
  char b = 1;
  (void)!::write(wake_[1], &b, 1);
  return VSP_OK;
}

vsp_host_timer* FakeHost::timer_new(vsp_timer_fn fn, void* ctx) {
  if (!options.host_timers_and_watches) {
    violation("timer_new is not expected from the " + options.plugin_id + " transport");
    return nullptr;
  }
  auto* t = new vsp_host_timer{fn, ctx};
  timers_.push_back(t);
  return t;
}

vsp_host_watch* FakeHost::watch_new(int fd, uint32_t events, vsp_watch_fn fn, void* ctx) {
  if (!options.host_timers_and_watches) {
    violation("watch_new is not expected from the " + options.plugin_id + " transport");
    return nullptr;
  }
  auto* w = new vsp_host_watch{fd, events, fn, ctx};
  watches_.push_back(w);
  return w;
}

int FakeHost::conn_open(const vsp_conn_info* info, vsp_plugin_conn* pc, vsp_host_conn** out,
                        vsp_error* err) {
  if (refuse_opens) {
    std::snprintf(err->message, sizeof err->message, "too many connections (refused by the test)");
    err->status = VSP_E_OVERFLOW;
    return VSP_E_OVERFLOW;
  }
  auto c = std::make_unique<FakeConn>();
  c->host = this;
  c->pc = pc;
  c->info_size = info->struct_size;
  c->dialect = opt(info->dialect);
  c->peer = opt(info->peer_address);
  c->local = opt(info->local_address);
  c->flags = info->flags;
  if (info->struct_size >= sizeof(vsp_conn_info)) {
    if (info->bearer_token) c->bearer = info->bearer_token;
    if (info->org_hint) c->org_hint = info->org_hint;
    c->path = opt(info->path);
    c->query = opt(info->query);
    c->headers_json = opt(info->headers_json);
    c->handshake_fields_null = info->bearer_token == nullptr && info->org_hint == nullptr &&
                               info->path == nullptr && info->query == nullptr &&
                               info->headers_json == nullptr;
  }
  c->io_thread = std::this_thread::get_id();
  FakeConn* raw = c.get();
  *out = reinterpret_cast<vsp_host_conn*>(raw);
  {
    std::lock_guard lock(mu_);
    for (const auto& t : io_threads_) {
      if (t->thread == raw->io_thread) raw->opened_on_registered_thread = true;
    }
    conns_.push_back(std::move(c));
  }
  if (info->flags & VSP_CONN_ADMISSION) {
    if (vtbl_->admit == nullptr) violation("VSP_CONN_ADMISSION from a transport without admit");
    // As a core that is idle does: it decides at once, on this thread, inside conn_open.
    switch (admission.load()) {
      case Admission::AcceptInline:
        admit(*raw, VSP_OK, 101);
        break;
      case Admission::RefuseInline:
        admit(*raw, refuse_status, refuse_http_status, refuse_body);
        break;
      case Admission::Manual:
        break;
    }
  }
  return VSP_OK;
}

void FakeHost::check_thread(FakeConn& c, const char* call) {
  if (options.one_thread_per_conn && c.io_thread != std::this_thread::get_id()) {
    violation(std::string(call) + " on another thread than conn_open for " + c.peer);
  }
}

void FakeHost::batch_begin() {
  if (t_batch_depth++ == 0) {
    t_batch_serial = ++g_batch_serials;
    batches_begun_.fetch_add(1);
  }
}

void FakeHost::batch_end() {
  if (t_batch_depth == 0) {
    violation("batch_end without a batch_begin on this thread");
    return;
  }
  if (--t_batch_depth == 0) {
    t_batch_serial = 0;
    batches_ended_.fetch_add(1);
  }
}

vsp_host_io_thread* FakeHost::io_thread_begin(vsp_wake_fn wake, void* ctx) {
  const auto self = std::this_thread::get_id();
  bool twice = false;
  vsp_host_io_thread* t = nullptr;
  {
    std::lock_guard lock(mu_);
    for (const auto& other : io_threads_) twice = twice || other->thread == self;
    io_threads_.push_back(
        std::make_unique<vsp_host_io_thread>(vsp_host_io_thread{this, self, wake, ctx}));
    t = io_threads_.back().get();
  }
  if (twice) violation("io_thread_begin twice on one thread");  // takes mu_ itself
  return t;
}

void FakeHost::io_thread_run(vsp_host_io_thread* t) {
  if (t->thread != std::this_thread::get_id()) violation("io_thread_run on another thread");
  io_thread_runs_.fetch_add(1);
}

void FakeHost::io_thread_end(vsp_host_io_thread* t) {
  if (t->thread != std::this_thread::get_id()) violation("io_thread_end on another thread");
  std::lock_guard lock(mu_);
  std::erase_if(io_threads_, [t](const auto& p) { return p.get() == t; });
}

std::size_t FakeHost::io_threads() {
  std::lock_guard lock(mu_);
  return io_threads_.size();
}

int FakeHost::wake_io_threads() {
  // Under the lock, so that no wake runs once io_thread_end has returned, as the ABI promises.
  std::lock_guard lock(mu_);
  int taken = 0;
  for (const auto& t : io_threads_) {
    if (t->wake(t->ctx) == VSP_OK) ++taken;
  }
  return taken;
}

uint64_t FakeHost::current_batch() noexcept {
  return t_batch_serial;
}

int FakeHost::conn_recv(FakeConn& c, const char* data, size_t len) {
  check_thread(c, "conn_recv");
  Delivery d(*this, c.delivering, "conn_recv");
  std::string msg(data, len);
  bool after_closed = false;
  {
    std::lock_guard lock(mu_);
    after_closed = c.closed_count > 0;
    c.received.push_back(msg);
  }
  if (after_closed) violation("conn_recv after conn_closed");
  if (c.dialect == "rest.v1" && rest_responder) {
    if (auto res = rest_responder(c, msg)) send(c, *res);
  } else if (on_message) {
    on_message(c, msg);
  }
  return VSP_OK;
}

void FakeHost::conn_closed(FakeConn& c, int status, const char* reason) {
  check_thread(c, "conn_closed");
  if (c.in_call.load() == std::this_thread::get_id()) {
    violation("conn_closed from inside send/close/admit");
    c.open = false;  // this thread holds call_mu
  } else {
    std::lock_guard lock(c.call_mu);  // waits for a send/close/admit on another thread
    c.open = false;
  }
  bool twice = false;
  {
    std::lock_guard lock(mu_);
    twice = ++c.closed_count > 1;
    c.closed_status = status;
    c.closed_reason = opt(reason);
  }
  if (twice) violation("conn_closed twice for " + c.peer);
}

void FakeHost::conn_writable(FakeConn& c) {
  check_thread(c, "conn_writable");
  bool after_closed = false;
  {
    std::lock_guard lock(mu_);
    after_closed = c.closed_count > 0;
    ++c.writable_calls;
  }
  if (after_closed) violation("conn_writable after conn_closed");
}

void FakeHost::conn_protocol_error(FakeConn& c, int status, const char* message) {
  check_thread(c, "conn_protocol_error");
  Delivery d(*this, c.delivering, "conn_protocol_error");
  const std::string text = opt(message);
  bool after_closed = false;
  {
    std::lock_guard lock(mu_);
    after_closed = c.closed_count > 0;
    c.protocol_errors.emplace_back(status, text);
  }
  if (after_closed) violation("conn_protocol_error after conn_closed");
  if (on_protocol_error) on_protocol_error(c, status, text);
}

}  // namespace vespid::testing
