#include "fake_host.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace vespid::unix_transport::testing {

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
    [](vsp_host_instance*) -> const char* { return "unix"; },
    [](vsp_host_instance* hi) -> const char* { return H(hi)->state_dir.c_str(); },
    [](vsp_host_instance*, const char*, vsp_text_sink_fn, void*) -> int { return VSP_E_NOT_FOUND; },
    [](vsp_host_instance* hi, vsp_task_fn fn, void* ctx) { return H(hi)->post(fn, ctx); },
    [](vsp_host_instance* hi, vsp_timer_fn fn, void* ctx) { return H(hi)->timer_new(fn, ctx); },
    [](vsp_host_timer* t, uint64_t delay_ms, uint64_t repeat_ms) {
      t->armed = true;
      t->due = Clock::now() + std::chrono::milliseconds(delay_ms);
      t->repeat_ms = repeat_ms;
    },
    [](vsp_host_timer* t) { t->armed = false; },
    [](vsp_host_timer* t) {
      // The owning host is not reachable from a timer; mark it, the host sweeps it.
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
    [](vsp_host_conn* c) { C(c)->host->writable_calls++; },
    [](vsp_host_conn* c, int status, const char* message) {
      C(c)->host->conn_protocol_error(*C(c), status, message);
    },
};

}  // namespace

FakeHost::FakeHost(std::string dir) : state_dir(std::move(dir)), api_(&kApi) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2");
  on_message = [this](FakeConn& c, const std::string& m) { send(c, m); };
}

FakeHost::~FakeHost() {
  destroy();
  // As the gateway does at shutdown: tasks already posted still run (they must cope with a
  // destroyed instance).
  std::deque<std::pair<vsp_task_fn, void*>> tasks;
  tasks.swap(posted_);
  for (auto& [fn, ctx] : tasks) fn(ctx);
  for (auto* w : watches_) delete w;
  for (auto* t : timers_) delete t;
  ::close(wake_[0]);
  ::close(wake_[1]);
}

int FakeHost::create(const std::string& config_json, std::string* err) {
  if (module_ == nullptr) {
    module_ = ::dlopen(VESPID_UNIX_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (module_ == nullptr) throw std::runtime_error(::dlerror());
    auto query = reinterpret_cast<vsp_module_query_fn>(::dlsym(module_, VSP_MODULE_QUERY_SYMBOL));
    if (query == nullptr) throw std::runtime_error("no vsp_module_query");
    const vsp_module_info* info = query(VSP_ABI_MAJOR, VSP_ABI_MINOR);
    if (info == nullptr || info->plugin_count != 1 || info->plugins[0].kind != VSP_KIND_TRANSPORT ||
        std::strcmp(info->plugins[0].id, "unix")) {
      throw std::runtime_error("unexpected module info");
    }
    vtbl_ = static_cast<const vsp_transport_vtbl*>(info->plugins[0].vtbl);
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
  return rc;
}

bool FakeHost::stop(std::chrono::milliseconds timeout) {
  bool done = false;
  vtbl_->life.stop(
      instance_, [](void* ctx) { *static_cast<bool*>(ctx) = true; }, &done);
  return run_until([&] { return done; }, timeout);
}

void FakeHost::destroy() {
  if (instance_ != nullptr) vtbl_->life.destroy(instance_);
  instance_ = nullptr;
}

int FakeHost::send(FakeConn& c, const std::string& msg) {
  return vtbl_->send(instance_, c.pc, msg.data(), msg.size());
}

void FakeHost::close(FakeConn& c, int code) {
  vtbl_->close(instance_, c.pc, code, nullptr);
}

std::vector<FakeConn*> FakeHost::conns() {
  std::lock_guard lock(mu_);
  std::vector<FakeConn*> out;
  for (auto& c : conns_) out.push_back(c.get());
  return out;
}

std::vector<std::string> FakeHost::logs() {
  std::lock_guard lock(mu_);
  return logs_;
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

vsp_host_timer* FakeHost::timer_new(vsp_timer_fn fn, void* ctx) {
  auto* t = new vsp_host_timer{fn, ctx};
  timers_.push_back(t);
  return t;
}

vsp_host_watch* FakeHost::watch_new(int fd, uint32_t events, vsp_watch_fn fn, void* ctx) {
  auto* w = new vsp_host_watch{fd, events, fn, ctx};
  watches_.push_back(w);
  return w;
}

int FakeHost::conn_open(const vsp_conn_info* info, vsp_plugin_conn* pc, vsp_host_conn** out,
                        vsp_error* err) {
  if (refuse_opens) {
    std::snprintf(err->message, sizeof err->message, "refused by the test");
    return VSP_E_OVERFLOW;
  }
  auto c = std::make_unique<FakeConn>();
  c->host = this;
  c->pc = pc;
  c->dialect = info->dialect ? info->dialect : "";
  c->peer = info->peer_address ? info->peer_address : "";
  c->local = info->local_address ? info->local_address : "";
  c->flags = info->flags;
  *out = reinterpret_cast<vsp_host_conn*>(c.get());
  std::lock_guard lock(mu_);
  conns_.push_back(std::move(c));
  return VSP_OK;
}

int FakeHost::conn_recv(FakeConn& c, const char* data, size_t len) {
  if (c.closed) throw std::logic_error("conn_recv after conn_closed");
  c.received.emplace_back(data, len);
  on_message(c, c.received.back());
  return VSP_OK;
}

void FakeHost::conn_closed(FakeConn& c, int status, const char* reason) {
  if (c.closed.exchange(true)) throw std::logic_error("conn_closed twice");
  c.closed_status = status;
  c.closed_reason = reason ? reason : "";
}

void FakeHost::conn_protocol_error(FakeConn& c, int status, const char* message) {
  c.protocol_status = status;
  c.protocol_error = message;
  // As the gateway does: answer in the dialect's form, then close.
  send(c,
       std::string(
           R"({"type":"res","id":null,"ok":false,"error":{"code":"INVALID_REQUEST","message":")") +
           message + "\"}}");
  close(c, status);
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
      wait = std::min<int>(wait, std::max<long long>(ms, 0));
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

  std::deque<std::pair<vsp_task_fn, void*>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(posted_);
  }
  for (auto& [fn, ctx] : tasks) fn(ctx);
}

bool FakeHost::run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    run_once(10);
  }
  return true;
}

void FakeHost::run_for(std::chrono::milliseconds d) {
  const auto deadline = Clock::now() + d;
  while (Clock::now() < deadline) run_once(5);
}

}  // namespace vespid::unix_transport::testing
