#include "fake_host.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace vespid::bridge::testing {

namespace {

using Clock = std::chrono::steady_clock;

// Set while the host is inside the transport's send/close for that connection.
thread_local FakeConn* tl_in_call = nullptr;

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
    [](vsp_host_instance*) -> const char* { return "bridge"; },
    [](vsp_host_instance* hi) -> const char* { return H(hi)->state_dir.c_str(); },
    [](vsp_host_instance* hi, const char* path, vsp_text_sink_fn sink, void* ctx) -> int {
      return H(hi)->config_get(path, sink, ctx);
    },
    [](vsp_host_instance* hi, vsp_task_fn fn, void* ctx) { return H(hi)->post(fn, ctx); },
    // The bridge uses no host timers or fd watches (it has its own I/O threads).
    [](vsp_host_instance*, vsp_timer_fn, void*) -> vsp_host_timer* { return nullptr; },
    [](vsp_host_timer*, uint64_t, uint64_t) {},
    [](vsp_host_timer*) {},
    [](vsp_host_timer*) {},
    [](vsp_host_instance*, int, uint32_t, vsp_watch_fn, void*) -> vsp_host_watch* {
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

const vsp_transport_vtbl* load_module() {
  // Modules are never unloaded; load once per process.
  static const vsp_transport_vtbl* vtbl = [] {
    void* module = ::dlopen(VESPID_BRIDGE_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (module == nullptr) throw std::runtime_error(::dlerror());
    auto query = reinterpret_cast<vsp_module_query_fn>(::dlsym(module, VSP_MODULE_QUERY_SYMBOL));
    if (query == nullptr) throw std::runtime_error("no vsp_module_query");
    const vsp_module_info* info = query(VSP_ABI_MAJOR, VSP_ABI_MINOR);
    if (info == nullptr || info->plugin_count != 1 || info->plugins[0].kind != VSP_KIND_TRANSPORT ||
        std::strcmp(info->plugins[0].id, "bridge") || std::strcmp(info->name, "vespid-bridge") ||
        info->plugins[0].vtbl_size != sizeof(vsp_transport_vtbl)) {
      throw std::runtime_error("unexpected module info");
    }
    return static_cast<const vsp_transport_vtbl*>(info->plugins[0].vtbl);
  }();
  return vtbl;
}

}  // namespace

FakeHost::FakeHost(std::map<std::string, std::string> gateway_config, std::string dir)
    : state_dir(std::move(dir)), gateway_config_(std::move(gateway_config)) {}

FakeHost::~FakeHost() {
  destroy();
  // As the gateway may: tasks posted before destroy still run, and must cope with a destroyed
  // instance.
  run_posted();
}

int FakeHost::create(const std::string& config_json, std::string* err) {
  vtbl_ = load_module();
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
  return rc;
}

bool FakeHost::stop(std::chrono::milliseconds timeout) {
  struct Done {
    FakeHost* host;
    bool done = false;
  } d{this};
  vtbl_->life.stop(
      instance_,
      [](void* ctx) {
        auto* dd = static_cast<Done*>(ctx);
        if (dd->done) dd->host->violation("stop's done called twice");
        dd->done = true;
        std::lock_guard lock(dd->host->mu_);
        int closed = 0;
        for (auto& c : dd->host->conns_) closed += c->closed_count;
        dd->host->closed_when_done = closed;
      },
      &d);
  return wait_for([&] { return d.done; }, timeout);
}

void FakeHost::destroy() {
  if (instance_ != nullptr) vtbl_->life.destroy(instance_);
  instance_ = nullptr;
}

void FakeHost::run_posted() {
  std::deque<std::pair<vsp_task_fn, void*>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(posted_);
  }
  for (auto& [fn, ctx] : tasks) fn(ctx);
}

bool FakeHost::wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    run_posted();
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int FakeHost::send(FakeConn& c, std::string_view message) {
  std::lock_guard lock(c.send_mu);
  FakeConn* outer = std::exchange(tl_in_call, &c);
  const int rc = vtbl_->send(instance_, c.pc, message.data(), message.size());
  tl_in_call = outer;
  return rc;
}

void FakeHost::close(FakeConn& c, int code) {
  std::lock_guard lock(c.send_mu);
  FakeConn* outer = std::exchange(tl_in_call, &c);
  vtbl_->close(instance_, c.pc, code, "test");
  tl_in_call = outer;
}

std::size_t FakeHost::conn_count() {
  std::lock_guard lock(mu_);
  return conns_.size();
}

FakeConn* FakeHost::conn(std::size_t i) {
  std::lock_guard lock(mu_);
  return i < conns_.size() ? conns_[i].get() : nullptr;
}

std::vector<std::string> FakeHost::received(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.received;
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

int FakeHost::protocol_errors(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.protocol_errors;
}

int FakeHost::protocol_status(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.protocol_status;
}

std::string FakeHost::protocol_message(FakeConn& c) {
  std::lock_guard lock(mu_);
  return c.protocol_message;
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
  for (const auto& l : logs_) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> FakeHost::violations() {
  std::lock_guard lock(mu_);
  return violations_;
}

void FakeHost::violation(std::string what) {
  std::lock_guard lock(mu_);
  violations_.push_back(std::move(what));
}

// ---- the host table ----

void FakeHost::log(int level, const char* msg, size_t len) {
  static const char* const kLevels[] = {"trace", "debug", "info", "warn", "error"};
  std::string line = std::string(kLevels[level >= 0 && level <= 4 ? level : 4]) + ": ";
  line.append(msg, len);
  std::lock_guard lock(mu_);
  logs_.push_back(std::move(line));
}

int FakeHost::config_get(const char* path, vsp_text_sink_fn sink, void* ctx) {
  auto it = gateway_config_.find(path);
  if (it == gateway_config_.end()) return VSP_E_NOT_FOUND;
  sink(ctx, it->second.data(), it->second.size());
  return VSP_OK;
}

int FakeHost::post(vsp_task_fn fn, void* ctx) {
  std::lock_guard lock(mu_);
  posted_.emplace_back(fn, ctx);
  return VSP_OK;
}

int FakeHost::conn_open(const vsp_conn_info* info, vsp_plugin_conn* pc, vsp_host_conn** out,
                        vsp_error* err) {
  if (refuse_opens.load() > 0) {
    std::snprintf(err->message, sizeof err->message, "refused by the test");
    err->status = VSP_E_OVERFLOW;
    return VSP_E_OVERFLOW;
  }
  auto c = std::make_unique<FakeConn>();
  c->host = this;
  c->pc = pc;
  c->dialect = info->dialect ? info->dialect : "";
  c->peer = info->peer_address ? info->peer_address : "";
  c->local = info->local_address ? info->local_address : "";
  c->flags = info->flags;
  c->info_size = info->struct_size;
  c->handshake_fields_null = info->struct_size >= sizeof(vsp_conn_info) &&
                             info->bearer_token == nullptr && info->org_hint == nullptr &&
                             info->path == nullptr && info->query == nullptr &&
                             info->headers_json == nullptr;
  c->io_thread = std::this_thread::get_id();
  *out = reinterpret_cast<vsp_host_conn*>(c.get());
  std::lock_guard lock(mu_);
  conns_.push_back(std::move(c));
  return VSP_OK;
}

void FakeHost::check_thread(FakeConn& c, const char* call) {
  if (c.io_thread != std::this_thread::get_id()) {
    violation(std::string(call) + " on another thread than conn_open for " + c.peer);
  }
}

int FakeHost::conn_recv(FakeConn& c, const char* data, size_t len) {
  check_thread(c, "conn_recv");
  std::string msg(data, len);
  {
    std::lock_guard lock(mu_);
    if (c.closed_count) violations_.push_back("conn_recv after conn_closed");
    c.received.push_back(msg);
  }
  if (on_message) on_message(c, msg);
  return VSP_OK;
}

void FakeHost::conn_closed(FakeConn& c, int status, const char* reason) {
  check_thread(c, "conn_closed");
  if (tl_in_call == &c) violation("conn_closed from inside send/close");
  std::lock_guard lock(mu_);
  if (++c.closed_count > 1) violations_.push_back("conn_closed twice for " + c.peer);
  c.closed_status = status;
  c.closed_reason = reason ? reason : "";
}

void FakeHost::conn_writable(FakeConn& c) {
  check_thread(c, "conn_writable");
  std::lock_guard lock(mu_);
  if (c.closed_count) violations_.push_back("conn_writable after conn_closed");
  ++c.writable_calls;
}

void FakeHost::conn_protocol_error(FakeConn& c, int status, const char* message) {
  check_thread(c, "conn_protocol_error");
  {
    std::lock_guard lock(mu_);
    ++c.protocol_errors;
    c.protocol_status = status;
    c.protocol_message = message ? message : "";
  }
  if (on_protocol_error) on_protocol_error(c, status, message ? message : "");
}

}  // namespace vespid::bridge::testing
