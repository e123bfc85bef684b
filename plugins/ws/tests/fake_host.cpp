#include "fake_host.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vespid::ws::testing {

namespace {

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
    [](vsp_host_instance*) -> const char* { return "ws-test"; },
    [](vsp_host_instance*) -> const char* { return "/tmp"; },
    [](vsp_host_instance* hi, const char* path, vsp_text_sink_fn sink, void* ctx) -> int {
      return H(hi)->config_get(path, sink, ctx);
    },
    [](vsp_host_instance* hi, vsp_task_fn fn, void* ctx) { return H(hi)->post(fn, ctx); },
    // The ws transport runs its own threads and timers; the host's are not expected.
    [](vsp_host_instance* hi, vsp_timer_fn, void*) -> vsp_host_timer* {
      H(hi)->violation("timer_new is not expected from the ws transport");
      return nullptr;
    },
    [](vsp_host_timer*, uint64_t, uint64_t) {},
    [](vsp_host_timer*) {},
    [](vsp_host_timer*) {},
    [](vsp_host_instance* hi, int, uint32_t, vsp_watch_fn, void*) -> vsp_host_watch* {
      H(hi)->violation("watch_new is not expected from the ws transport");
      return nullptr;
    },
    [](vsp_host_watch*, uint32_t) {},
    [](vsp_host_watch*) {},
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
};

std::string opt(const char* s) {
  return s ? s : "";
}

// Marks the current thread as inside send/close/admit of `c` for the scope.
struct InCall {
  FakeConn& c;
  explicit InCall(FakeConn& conn) : c(conn) { c.in_call = std::this_thread::get_id(); }
  ~InCall() { c.in_call = std::thread::id(); }
};

}  // namespace

FakeHost::FakeHost() : api_(&kApi) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2");
  rest_responder = [](FakeConn&, const std::string& envelope) -> std::optional<std::string> {
    nlohmann::json res = {{"status", 200},
                          {"headers", {{"content-type", "application/json"}, {"x-echo", "yes"}}},
                          {"body", envelope}};
    return res.dump();
  };
}

FakeHost::~FakeHost() {
  destroy();
  // As the gateway does at shutdown: tasks already posted still run (they must cope with a
  // destroyed instance).
  std::deque<std::pair<vsp_task_fn, void*>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(posted_);
  }
  for (auto& [fn, ctx] : tasks) fn(ctx);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

int FakeHost::create(const std::string& config_json, std::string* err) {
  if (module_ == nullptr) {
    module_ = ::dlopen(VESPID_WS_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (module_ == nullptr) throw std::runtime_error(::dlerror());
    auto query = reinterpret_cast<vsp_module_query_fn>(::dlsym(module_, VSP_MODULE_QUERY_SYMBOL));
    if (query == nullptr) throw std::runtime_error("no vsp_module_query");
    const vsp_module_info* info = query(VSP_ABI_MAJOR, VSP_ABI_MINOR);
    if (info == nullptr || info->plugin_count != 1 || info->plugins[0].kind != VSP_KIND_TRANSPORT ||
        std::strcmp(info->plugins[0].id, "ws") != 0) {
      throw std::runtime_error("unexpected module info");
    }
    vtbl_ = static_cast<const vsp_transport_vtbl*>(info->plugins[0].vtbl);
    if (vtbl_->admit == nullptr) throw std::runtime_error("the ws transport must have admit");
  }
  vsp_error e{};
  e.struct_size = sizeof e;
  const int rc = vtbl_->life.create(api_, reinterpret_cast<vsp_host_instance*>(this),
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

bool FakeHost::stop(std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  auto* boxed = new std::shared_ptr<std::atomic<bool>>(done);
  vtbl_->life.stop(
      instance_,
      [](void* ctx) {
        auto* p = static_cast<std::shared_ptr<std::atomic<bool>>*>(ctx);
        **p = true;
        delete p;
      },
      boxed);
  started_ = false;
  return run_until([&] { return done->load(); }, timeout);
}

void FakeHost::destroy() {
  if (instance_ != nullptr) vtbl_->life.destroy(instance_);
  instance_ = nullptr;
}

int FakeHost::send(FakeConn& c, const std::string& msg) {
  std::lock_guard lock(c.call_mu);
  if (!c.open) return VSP_E_CLOSED;
  InCall in(c);
  return vtbl_->send(instance_, c.pc, msg.data(), msg.size());
}

void FakeHost::close(FakeConn& c, int code, const char* reason) {
  std::lock_guard lock(c.call_mu);
  if (!c.open) return;
  InCall in(c);
  vtbl_->close(instance_, c.pc, code, reason);
}

void FakeHost::admit(FakeConn& c, int status, int http_status, const std::string& body) {
  std::lock_guard lock(c.call_mu);
  if (!c.open) return;  // the core never admits a connection the transport has closed
  InCall in(c);
  vtbl_->admit(instance_, c.pc, status, http_status, body.data(), body.size());
}

std::vector<FakeConn*> FakeHost::conns() {
  std::lock_guard lock(mu_);
  std::vector<FakeConn*> out;
  for (auto& c : conns_) out.push_back(c.get());
  return out;
}

FakeConn* FakeHost::wait_conn(std::size_t n, std::chrono::milliseconds timeout) {
  run_until([&] { return conns().size() >= n; }, timeout);
  auto all = conns();
  return all.size() >= n ? all[n - 1] : nullptr;
}

std::vector<std::string> FakeHost::received(FakeConn* c) {
  std::lock_guard lock(mu_);
  return events_[c].received;
}

std::vector<std::pair<int, std::string>> FakeHost::protocol_errors(FakeConn* c) {
  std::lock_guard lock(mu_);
  return events_[c].protocol_errors;
}

int FakeHost::closed_count(FakeConn* c) {
  std::lock_guard lock(mu_);
  return events_[c].closed_count;
}

int FakeHost::closed_status(FakeConn* c) {
  std::lock_guard lock(mu_);
  return events_[c].closed_status;
}

std::string FakeHost::closed_reason(FakeConn* c) {
  std::lock_guard lock(mu_);
  return events_[c].closed_reason;
}

int FakeHost::writable_count(FakeConn* c) {
  std::lock_guard lock(mu_);
  return events_[c].writable;
}

std::vector<std::string> FakeHost::logs() {
  std::lock_guard lock(mu_);
  return logs_;
}

std::vector<std::string> FakeHost::violations() {
  std::lock_guard lock(mu_);
  return violations_;
}

uint16_t FakeHost::port() {
  for (const auto& line : logs()) {
    const auto at = line.find("(port ");
    if (line.rfind("listening on ", 0) == 0 && at != std::string::npos) {
      return static_cast<uint16_t>(std::stoi(line.substr(at + 6)));
    }
  }
  return 0;
}

void FakeHost::violation(std::string what) {
  std::lock_guard lock(mu_);
  violations_.push_back(std::move(what));
}

void FakeHost::log(int, const char* msg, size_t len) {
  std::lock_guard lock(mu_);
  logs_.emplace_back(msg, len);
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

int FakeHost::config_get(const char* path, vsp_text_sink_fn sink, void* ctx) {
  auto it = config.find(path);
  if (it == config.end()) return VSP_E_NOT_FOUND;
  sink(ctx, it->second.data(), it->second.size());
  return VSP_OK;
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
  if (info->bearer_token) c->bearer = info->bearer_token;
  if (info->org_hint) c->org_hint = info->org_hint;
  c->path = opt(info->path);
  c->query = opt(info->query);
  c->headers_json = opt(info->headers_json);
  FakeConn* raw = c.get();
  *out = reinterpret_cast<vsp_host_conn*>(raw);
  {
    std::lock_guard lock(mu_);
    conns_.push_back(std::move(c));
    events_[raw];
  }
  if (info->flags & VSP_CONN_ADMISSION) {
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

int FakeHost::conn_recv(FakeConn& c, const char* data, size_t len) {
  if (c.delivering.exchange(true)) violation("conn_recv concurrently for one connection");
  std::string msg(data, len);
  {
    std::lock_guard lock(mu_);
    if (events_[&c].closed_count > 0) violations_.push_back("conn_recv after conn_closed");
    events_[&c].received.push_back(msg);
  }
  if (c.dialect == "rest.v1") {
    if (auto res = rest_responder(c, msg)) send(c, *res);
  } else if (on_message) {
    on_message(c, msg);
  }
  c.delivering = false;
  return VSP_OK;
}

void FakeHost::conn_closed(FakeConn& c, int status, const char* reason) {
  if (c.in_call.load() == std::this_thread::get_id()) {
    violation("conn_closed from inside send/close/admit");
  } else {
    std::lock_guard lock(c.call_mu);  // waits for a send/close/admit on another thread
    c.open = false;
  }
  std::lock_guard lock(mu_);
  auto& e = events_[&c];
  if (++e.closed_count > 1) violations_.push_back("conn_closed twice");
  e.closed_status = status;
  e.closed_reason = opt(reason);
}

void FakeHost::conn_writable(FakeConn& c) {
  std::lock_guard lock(mu_);
  events_[&c].writable++;
}

void FakeHost::conn_protocol_error(FakeConn& c, int status, const char* message) {
  {
    std::lock_guard lock(mu_);
    events_[&c].protocol_errors.emplace_back(status, message);
  }
  // As the gateway does: answer in the dialect's form, then close.
  nlohmann::json err = {{"type", "error"}, {"code", "INVALID_REQUEST"}, {"message", message}};
  send(c, err.dump());
  close(c, status, message);
}

void FakeHost::run_once(int max_wait_ms) {
  {
    std::lock_guard lock(mu_);
    if (!posted_.empty()) max_wait_ms = 0;
  }
  pollfd p{wake_[0], POLLIN, 0};
  ::poll(&p, 1, max_wait_ms);
  char drain[256];
  while (::read(wake_[0], drain, sizeof drain) > 0) {
  }
  std::deque<std::pair<vsp_task_fn, void*>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(posted_);
  }
  for (auto& [fn, ctx] : tasks) fn(ctx);
}

bool FakeHost::run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    run_once(2);
  }
  return true;
}

void FakeHost::run_for(std::chrono::milliseconds d) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < deadline) run_once(2);
}

}  // namespace vespid::ws::testing
