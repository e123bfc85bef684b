// The C host table. Each function is a thin trampoline from the C ABI into the instance's
// services (InstanceServices), the connection hub (ConnectionServices, reached through the
// connection handle), the Loop or the instance's logger; none lets an exception escape.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "host/connections/connection.hpp"
#include "host/discovery/publisher.hpp"
#include "host/netbind/bind_service.hpp"
#include "host/plugins/connection_services.hpp"
#include "host/plugins/instance_services.hpp"
#include "host/plugins/plugin_instance.hpp"
#include "runtime/end_of_turn.hpp"
#include "runtime/loop.hpp"
#include "runtime/sequencer.hpp"

// The opaque C handles for timers and watches: a callback plus the loop object that drives it.
struct vsp_host_timer {
  std::unique_ptr<vespid::core::Loop::Timer> timer;
  vsp_timer_fn fn;
  void* ctx;
};

struct vsp_host_watch {
  vespid::core::Loop* loop;
  vespid::core::Loop::Watch* watch;
  vsp_watch_fn fn;
  void* ctx;
  int fd;
};

// A transport's I/O thread registered as a waker of its shard's Sequencer (ABI 1.6).
struct vsp_host_io_thread {
  vespid::core::Sequencer* sequencer;
  vsp_wake_fn wake;
  void* ctx;
  uint64_t waker = 0;
};

namespace vespid::core {

namespace {

PluginInstance& inst(vsp_host_instance* hi) {
  return *PluginInstance::from(hi);
}

template <class F>
auto no_throw(F&& f, decltype(f()) fallback) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (...) {
    return fallback;
  }
}

void h_log(vsp_host_instance* hi, int level, const char* msg, size_t len) {
  static constexpr spdlog::level::level_enum levels[] = {spdlog::level::trace, spdlog::level::debug,
                                                         spdlog::level::info, spdlog::level::warn,
                                                         spdlog::level::err};
  auto lvl = levels[std::clamp(level, VSP_LOG_TRACE, VSP_LOG_ERROR)];
  try {
    inst(hi).logger().log(lvl, "{}", std::string_view(msg ? msg : "", msg ? len : 0));
  } catch (...) {
  }
}

void h_report_failure(vsp_host_instance* hi, int status, const char* message) {
  try {
    inst(hi).services().instance_failed(inst(hi), status, message ? message : "");
  } catch (...) {
  }
}

const char* h_instance_name(vsp_host_instance* hi) {
  return inst(hi).name().c_str();
}

const char* h_state_dir(vsp_host_instance* hi) {
  return inst(hi).services().state_dir().c_str();
}

int h_config_get(vsp_host_instance* hi, const char* path, vsp_text_sink_fn sink, void* ctx) {
  if (path == nullptr || sink == nullptr) return VSP_E_INVALID;
  return no_throw(
      [&] {
        std::string text = inst(hi).services().config_text(path);
        if (text.empty()) return VSP_E_NOT_FOUND;
        sink(ctx, text.data(), text.size());
        return VSP_OK;
      },
      VSP_E_INTERNAL);
}

int h_post(vsp_host_instance* hi, vsp_task_fn fn, void* ctx) {
  if (fn == nullptr) return VSP_E_INVALID;
  return no_throw(
      [&] {
        return inst(hi).services().loop().post([fn, ctx] { fn(ctx); }) ? VSP_OK : VSP_E_CLOSED;
      },
      VSP_E_NOMEM);
}

vsp_host_timer* h_timer_new(vsp_host_instance* hi, vsp_timer_fn fn, void* ctx) {
  if (fn == nullptr) return nullptr;
  return no_throw(
      [&]() -> vsp_host_timer* {
        auto* t = new vsp_host_timer{nullptr, fn, ctx};
        t->timer = inst(hi).services().loop().make_timer([t] { t->fn(t, t->ctx); });
        return t;
      },
      nullptr);
}

void h_timer_arm(vsp_host_timer* t, uint64_t delay_ms, uint64_t repeat_ms) {
  t->timer->arm(std::chrono::milliseconds(delay_ms), std::chrono::milliseconds(repeat_ms));
}

void h_timer_disarm(vsp_host_timer* t) {
  t->timer->disarm();
}

void h_timer_free(vsp_host_timer* t) {
  delete t;
}

vsp_host_watch* h_watch_new(vsp_host_instance* hi, int fd, uint32_t events, vsp_watch_fn fn,
                            void* ctx) {
  if (fn == nullptr || fd < 0) return nullptr;
  return no_throw(
      [&]() -> vsp_host_watch* {
        Loop& loop = inst(hi).services().loop();
        auto* w = new vsp_host_watch{&loop, nullptr, fn, ctx, fd};
        w->watch =
            loop.watch_new(fd, events, [w](uint32_t revents) { w->fn(w, w->fd, revents, w->ctx); });
        if (w->watch == nullptr) {
          delete w;
          return nullptr;
        }
        return w;
      },
      nullptr);
}

void h_watch_update(vsp_host_watch* w, uint32_t events) {
  w->loop->watch_update(w->watch, events);
}

void h_watch_free(vsp_host_watch* w) {
  w->loop->watch_free(w->watch);
  delete w;
}

// Connection services go straight to the hub. An open connection's hub is reachable through
// the transport instance recorded at open, so the per-frame calls need only the handle.
int h_conn_open(vsp_host_instance* hi, const vsp_conn_info* info, vsp_plugin_conn* pc,
                vsp_host_conn** out, vsp_error* err) {
  if (info == nullptr || out == nullptr || info->dialect == nullptr) return VSP_E_INVALID;
  ConnectionServices* hub = inst(hi).services().connections();
  if (hub == nullptr) return VSP_E_UNSUPPORTED;
  return no_throw([&] { return hub->open(inst(hi), *info, pc, out, err); }, VSP_E_NOMEM);
}

ConnectionServices& hub_of(vsp_host_conn* c) {
  // Non-null: a handle exists only because this hub opened it.
  return *Connection::from(c)->transport().services().connections();
}

int h_conn_recv(vsp_host_conn* c, const char* data, size_t len) {
  return no_throw([&] { return hub_of(c).recv(c, data, len); }, VSP_E_NOMEM);
}

void h_conn_closed(vsp_host_conn* c, int status, const char* reason) {
  try {
    hub_of(c).closed(c, status, reason);
  } catch (...) {
  }
}

void h_conn_writable(vsp_host_conn* c) {
  try {
    hub_of(c).writable(c);
  } catch (...) {
  }
}

void h_conn_protocol_error(vsp_host_conn* c, int status, const char* message) {
  try {
    hub_of(c).protocol_error(c, status, message);
  } catch (...) {
  }
}

int h_bind_watch(vsp_host_instance* hi, const char* spec, vsp_bind_fn fn, void* ctx,
                 vsp_host_bind** out, vsp_error* err) {
  if (spec == nullptr || fn == nullptr || out == nullptr) return VSP_E_INVALID;
  return no_throw(
      [&] {
        BindService* binds = inst(hi).services().bind_service();
        if (binds == nullptr) return VSP_E_UNSUPPORTED;
        return binds->watch(inst(hi), spec, fn, ctx, out, err);
      },
      VSP_E_NOMEM);
}

void h_bind_unwatch(vsp_host_bind* w) {
  try {
    BindService::unwatch(w);
  } catch (...) {
  }
}

void h_listener_update(vsp_host_instance* hi, const vsp_listener_info* info) {
  if (info == nullptr) return;
  try {
    if (DiscoveryPublisher* pub = inst(hi).services().discovery_publisher()) {
      pub->listener_update(inst(hi), *info);
    }
  } catch (...) {
  }
}

// A transport's batch of deliveries is a turn of its thread (runtime/end_of_turn.hpp).
void h_batch_begin(vsp_host_instance*) {
  end_of_turn::begin();
}

void h_batch_end(vsp_host_instance*) {
  end_of_turn::end();
}

// The Sequencer's wake-up of one I/O thread: the transport queues an io_thread_run on it.
bool wake_io_thread(void* ctx) {
  auto* t = static_cast<vsp_host_io_thread*>(ctx);
  return t->wake(t->ctx) == VSP_OK;
}

vsp_host_io_thread* h_io_thread_begin(vsp_host_instance* hi, vsp_wake_fn wake, void* ctx) {
  if (wake == nullptr) return nullptr;
  return no_throw(
      [&]() -> vsp_host_io_thread* {
        ConnectionServices* hub = inst(hi).services().connections();
        if (hub == nullptr) return nullptr;
        auto t = std::make_unique<vsp_host_io_thread>(
            vsp_host_io_thread{&hub->sequencer_of_this_thread(inst(hi)), wake, ctx});
        t->waker = t->sequencer->add_waker(&wake_io_thread, t.get());
        return t.release();
      },
      nullptr);
}

void h_io_thread_run(vsp_host_io_thread* t) {
  try {
    t->sequencer->drain();
  } catch (...) {
  }
}

void h_io_thread_end(vsp_host_io_thread* t) {
  try {
    t->sequencer->remove_waker(t->waker);
  } catch (...) {
  }
  delete t;
}

const vsp_host_api kHostApi = {
    sizeof(vsp_host_api),
    VSP_ABI_MAJOR,
    VSP_ABI_MINOR,
    &h_log,
    &h_report_failure,
    &h_instance_name,
    &h_state_dir,
    &h_config_get,
    &h_post,
    &h_timer_new,
    &h_timer_arm,
    &h_timer_disarm,
    &h_timer_free,
    &h_watch_new,
    &h_watch_update,
    &h_watch_free,
    &h_conn_open,
    &h_conn_recv,
    &h_conn_closed,
    &h_conn_writable,
    &h_conn_protocol_error,
    &h_bind_watch,
    &h_bind_unwatch,
    &h_listener_update,
    &h_batch_begin,
    &h_batch_end,
    &h_io_thread_begin,
    &h_io_thread_run,
    &h_io_thread_end,
};

}  // namespace

const vsp_host_api* host_api() {
  return &kHostApi;
}

}  // namespace vespid::core
