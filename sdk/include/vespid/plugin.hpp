// Header-only C++17 helper for writing Vespid plugins.
//
// It adds nothing to the ABI: everything here compiles down to the C tables of vespid/*.h.
//   - vsp::Error and vsp::guard(): the exception barrier. No exception may cross the C boundary;
//     guard() turns one into a status code and a message in the caller's vsp_error.
//   - vsp::Host: the host's service table and this instance's handle, with typed helpers.
//   - vsp::Timer, vsp::Watch: RAII owners of host timers and fd watches (loop thread only).
//   - vsp::TransportAdapter<T>, vsp::StorageAdapter<T>, vsp::BusAdapter<T>, ...: generate a
//     kind's C table from a class.
//   - VSP_DECLARE_MODULE: defines the one exported symbol, vsp_module_query.
//
// Each method runs on the thread of the C function it implements; the comments below name it,
// and THREADING in vespid/abi.h says what that means (it is stated there only, so it cannot
// drift). A transport class T provides:
//   static std::unique_ptr<T> create(vsp::Host host, std::string_view config_json);  // loop
//   void start();                                                     // loop
//   void stop(std::function<void()> done);                            // loop; done: any, once
//   int send(vsp_plugin_conn* conn, std::string_view message);        // any
//   void close(vsp_plugin_conn* conn, int code, const char* reason);  // any
//   void admit(vsp_plugin_conn*, int status, int http_status, std::string_view body);
//                                                         // any; optional (VSP_CONN_ADMISSION)
//   int send_batch(vsp_plugin_conn*, const vsp_msg* msgs, size_t count);  // any; optional
// A storage class T provides create/start/stop as above (on the storage thread) and, also on
// the storage thread,
//   int get(std::string_view key, vsp_kv_sink_fn sink, void* ctx);
//   int scan(std::string_view start, std::string_view end, uint32_t limit, uint32_t flags,
//            vsp_kv_sink_fn sink, void* ctx);
//   int commit(const vsp_txn* txns, size_t count, vsp_txn_result* results);
// and optionally (ABI 1.4, both or neither: the table gets them only if T has both)
//   int commit_unsynced(const vsp_txn* txns, size_t count, vsp_txn_result* results);
//   int sync();
// Discovery and netbind classes: see DiscoveryAdapter and NetbindAdapter (loop thread); bus
// classes: BusAdapter (any thread).
// Methods report failures by throwing vsp::Error(status, message); guard() keeps every
// exception on the plugin's side of the C boundary.
#ifndef VESPID_PLUGIN_HPP
#define VESPID_PLUGIN_HPP

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "vespid/vespid.h"

namespace vsp {

// A failure with a VSP_E_* status. Throw it from plugin code; guard() catches it.
class Error : public std::runtime_error {
 public:
  Error(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

inline void fill_error(vsp_error* err, int status, const char* message) noexcept {
  if (err == nullptr) return;
  err->status = status;
  std::snprintf(err->message, sizeof err->message, "%s", message ? message : "");
}

// Runs f() and converts whatever it throws into a status code plus message. f returns void or
// int (a VSP status).
template <class F>
int guard(vsp_error* err, F&& f) noexcept {
  try {
    if constexpr (std::is_same_v<decltype(f()), void>) {
      f();
      return VSP_OK;
    } else {
      return static_cast<int>(f());
    }
  } catch (const Error& e) {
    fill_error(err, e.status(), e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    fill_error(err, VSP_E_NOMEM, "out of memory");
    return VSP_E_NOMEM;
  } catch (const std::exception& e) {
    fill_error(err, VSP_E_INTERNAL, e.what());
    return VSP_E_INTERNAL;
  } catch (...) {
    fill_error(err, VSP_E_INTERNAL, "unknown exception");
    return VSP_E_INTERNAL;
  }
}

// The host's services for one instance. Cheap to copy (two pointers).
class Host {
 public:
  Host() = default;
  Host(const vsp_host_api* api, vsp_host_instance* hi) : api_(api), hi_(hi) {}

  const vsp_host_api* api() const noexcept { return api_; }
  vsp_host_instance* instance() const noexcept { return hi_; }

  // Any thread.
  void log(int level, std::string_view msg) const noexcept {
    api_->log(hi_, level, msg.data(), msg.size());
  }
  void debug(std::string_view m) const noexcept { log(VSP_LOG_DEBUG, m); }
  void info(std::string_view m) const noexcept { log(VSP_LOG_INFO, m); }
  void warn(std::string_view m) const noexcept { log(VSP_LOG_WARN, m); }
  void error(std::string_view m) const noexcept { log(VSP_LOG_ERROR, m); }

  std::string instance_name() const { return api_->instance_name(hi_); }
  std::string state_dir() const { return api_->state_dir(hi_); }

  // Whether the host offers ABI 1.1's bind services (bind_watch, bind_unwatch,
  // listener_update): an older gateway's table ends before them.
  bool has_bind_api() const noexcept {
    return VSP_HAS_MEMBER(vsp_host_api, api_, listener_update) && api_->bind_watch != nullptr &&
           api_->bind_unwatch != nullptr && api_->listener_update != nullptr;
  }

  // Whether the host offers ABI 1.2's reply batching (batch_begin, batch_end).
  bool has_batch_api() const noexcept {
    return VSP_HAS_MEMBER(vsp_host_api, api_, batch_end) && api_->batch_begin != nullptr &&
           api_->batch_end != nullptr;
  }

  // Whether the host offers ABI 1.6's I/O thread registration (io_thread_begin, io_thread_run,
  // io_thread_end).
  bool has_io_thread_api() const noexcept {
    return VSP_HAS_MEMBER(vsp_host_api, api_, io_thread_end) && api_->io_thread_begin != nullptr &&
           api_->io_thread_run != nullptr && api_->io_thread_end != nullptr;
  }

  // Loop thread. Returns the JSON text of a gateway config key, or an empty string.
  std::string config_get(const char* path) const {
    std::string out;
    api_->config_get(
        hi_, path,
        [](void* ctx, const char* text, size_t len) {
          static_cast<std::string*>(ctx)->assign(text, len);
        },
        &out);
    return out;
  }

  // Any thread. Runs fn on the loop thread. Returns false (and drops fn) if the host is shutting
  // down.
  bool post(std::function<void()> fn) const {
    auto* boxed = new std::function<void()>(std::move(fn));
    int rc = api_->post(
        hi_,
        [](void* ctx) {
          std::unique_ptr<std::function<void()>> f(static_cast<std::function<void()>*>(ctx));
          try {
            (*f)();
          } catch (...) {
            // A posted task has nobody to report to; swallowing keeps the host alive.
          }
        },
        boxed);
    if (rc != VSP_OK) {
      delete boxed;
      return false;
    }
    return true;
  }

  // Loop thread.
  void report_failure(int status, const std::string& message) const {
    api_->report_failure(hi_, status, message.c_str());
  }

 private:
  const vsp_host_api* api_ = nullptr;
  vsp_host_instance* hi_ = nullptr;
};

// Brackets the delivery of several messages (see host->batch_begin). Any thread, and destroyed on
// the thread that made it; does nothing on a host without ABI 1.2's batching.
class ReplyBatch {
 public:
  explicit ReplyBatch(const Host& host) noexcept
      : api_(host.has_batch_api() ? host.api() : nullptr), hi_(host.instance()) {
    if (api_) api_->batch_begin(hi_);
  }
  ~ReplyBatch() {
    if (api_) api_->batch_end(hi_);
  }
  ReplyBatch(const ReplyBatch&) = delete;
  ReplyBatch& operator=(const ReplyBatch&) = delete;

 private:
  const vsp_host_api* api_;  // copied: the owner of the Host may go away inside the batch
  vsp_host_instance* hi_;
};

// One I/O thread's registration with the host (host->io_thread_begin): made on that thread
// before it opens or delivers anything, and destroyed there after its last delivery. `wake` is
// called on any thread when the host has work for this one; it must queue a call of run() to this
// thread's reactor without blocking and return VSP_OK, or another status when it could not
// (boost::asio::post, say, with VSP_E_NOMEM for std::bad_alloc). Does nothing on a host without
// ABI 1.6, where the host runs its work on the thread that causes it.
class IoThreadLink {
 public:
  IoThreadLink(const Host& host, std::function<int()> wake)
      : api_(host.has_io_thread_api() ? host.api() : nullptr),
        wake_(std::make_unique<std::function<int()>>(std::move(wake))) {
    if (api_) t_ = api_->io_thread_begin(host.instance(), &IoThreadLink::trampoline, wake_.get());
  }
  ~IoThreadLink() {
    if (t_) api_->io_thread_end(t_);
  }
  IoThreadLink(const IoThreadLink&) = delete;
  IoThreadLink& operator=(const IoThreadLink&) = delete;

  // This thread, when a wake-up's call arrives: runs what the host queued for it.
  void run() const noexcept {
    if (t_) api_->io_thread_run(t_);
  }
  bool registered() const noexcept { return t_ != nullptr; }

 private:
  static int trampoline(void* ctx) noexcept {
    try {
      return (*static_cast<std::function<int()>*>(ctx))();
    } catch (const std::bad_alloc&) {
      return VSP_E_NOMEM;
    } catch (...) {
      return VSP_E_INTERNAL;
    }
  }

  const vsp_host_api* api_;
  std::unique_ptr<std::function<int()>> wake_;
  vsp_host_io_thread* t_ = nullptr;
};

class Timer {
 public:
  Timer(const Host& host, std::function<void()> fn)
      : api_(host.api()), fn_(std::make_unique<std::function<void()>>(std::move(fn))) {
    t_ = api_->timer_new(host.instance(), &Timer::trampoline, fn_.get());
  }
  ~Timer() {
    if (t_) api_->timer_free(t_);
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(uint64_t delay_ms, uint64_t repeat_ms = 0) { api_->timer_arm(t_, delay_ms, repeat_ms); }
  void disarm() { api_->timer_disarm(t_); }

 private:
  static void trampoline(vsp_host_timer*, void* ctx) {
    try {
      (*static_cast<std::function<void()>*>(ctx))();
    } catch (...) {
    }
  }
  const vsp_host_api* api_;
  std::unique_ptr<std::function<void()>> fn_;
  vsp_host_timer* t_ = nullptr;
};

// A host fd watch owned by this object. Loop thread only. Does not own the fd.
class Watch {
 public:
  Watch(const Host& host, int fd, uint32_t events, std::function<void(uint32_t revents)> fn)
      : api_(host.api()), fn_(std::make_unique<std::function<void(uint32_t)>>(std::move(fn))) {
    w_ = api_->watch_new(host.instance(), fd, events, &Watch::trampoline, fn_.get());
    if (w_ == nullptr) throw Error(VSP_E_IO, "the host could not watch fd " + std::to_string(fd));
  }
  ~Watch() {
    if (w_) api_->watch_free(w_);
  }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  void update(uint32_t events) { api_->watch_update(w_, events); }

 private:
  static void trampoline(vsp_host_watch*, int, uint32_t revents, void* ctx) {
    try {
      (*static_cast<std::function<void(uint32_t)>*>(ctx))(revents);
    } catch (...) {
    }
  }
  const vsp_host_api* api_;
  std::unique_ptr<std::function<void(uint32_t)>> fn_;
  vsp_host_watch* w_ = nullptr;
};

// Whether a listener bound by `spec` also wants a loopback companion (so local tools still
// reach it): every spec but "loopback", "lan" and literal loopback or wildcard addresses, which
// already cover 127.0.0.1 or are it. "tailnet", "auto" and specific addresses want one.
inline bool bind_spec_wants_loopback_companion(std::string_view spec) {
  if (spec == "loopback" || spec == "lan") return false;
  const std::string text(spec);
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    const uint32_t host_order = ntohl(v4.s_addr);
    return host_order != 0 && (host_order >> 24) != 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return !IN6_IS_ADDR_UNSPECIFIED(&v6) && !IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return true;  // a mode that names a specific, changing address
}

namespace detail {

template <class T>
T* self(vsp_plugin_instance* p) noexcept {
  return reinterpret_cast<T*>(p);
}

template <class T>
struct Lifecycle {
  static int create(const vsp_host_api* api, vsp_host_instance* hi, const char* cfg, size_t len,
                    vsp_plugin_instance** out, vsp_error* err) {
    return guard(err, [&] {
      std::unique_ptr<T> made = T::create(Host(api, hi), std::string_view(cfg, len));
      *out = reinterpret_cast<vsp_plugin_instance*>(made.release());
    });
  }
  static int start(vsp_plugin_instance* p, vsp_error* err) {
    return guard(err, [&] { self<T>(p)->start(); });
  }
  static void stop(vsp_plugin_instance* p, vsp_stop_done_fn done, void* ctx) {
    int rc = guard(nullptr, [&] { self<T>(p)->stop([done, ctx] { done(ctx); }); });
    if (rc != VSP_OK) done(ctx);  // a throwing stop must still let the host go on
  }
  static void destroy(vsp_plugin_instance* p) { delete self<T>(p); }
  static constexpr vsp_lifecycle table() { return {&create, &start, &stop, &destroy}; }
};

}  // namespace detail

template <class T>
struct TransportAdapter {
  static int send(vsp_plugin_instance* p, vsp_plugin_conn* c, const char* d, size_t n) {
    return guard(nullptr, [&] { return detail::self<T>(p)->send(c, std::string_view(d, n)); });
  }
  static void close(vsp_plugin_instance* p, vsp_plugin_conn* c, int code, const char* reason) {
    guard(nullptr, [&] { detail::self<T>(p)->close(c, code, reason); });
  }
  static void admit(vsp_plugin_instance* p, vsp_plugin_conn* c, int status, int http_status,
                    const char* body, size_t len) {
    if constexpr (has_admit<T>(0)) {
      guard(nullptr, [&] {
        detail::self<T>(p)->admit(c, status, http_status, std::string_view(body, len));
      });
    }
  }
  // A transport class that holds handshakes (VSP_CONN_ADMISSION) defines
  //   void admit(vsp_plugin_conn*, int status, int http_status, std::string_view body);
  template <class U = T>
  static constexpr auto has_admit(int)
      -> decltype(std::declval<U&>().admit(nullptr, 0, 0, std::string_view()), bool()) {
    return true;
  }
  template <class U = T>
  static constexpr bool has_admit(...) {
    return false;
  }
  // A transport class that writes several messages in one go defines
  //   int send_batch(vsp_plugin_conn*, const vsp_msg* msgs, size_t count);  // any thread
  template <class U = T>
  static constexpr auto has_send_batch(int)
      -> decltype(std::declval<U&>().send_batch(nullptr, nullptr, 0), bool()) {
    return true;
  }
  template <class U = T>
  static constexpr bool has_send_batch(...) {
    return false;
  }
  static int send_batch(vsp_plugin_instance* p, vsp_plugin_conn* c, const vsp_msg* m, size_t n) {
    if constexpr (has_send_batch<T>(0)) {
      return guard(nullptr, [&] { return detail::self<T>(p)->send_batch(c, m, n); });
    } else {
      return VSP_E_UNSUPPORTED;
    }
  }
  static inline const vsp_transport_vtbl vtbl = {sizeof(vsp_transport_vtbl),
                                                 detail::Lifecycle<T>::table(),
                                                 &send,
                                                 &close,
                                                 has_admit<T>(0) ? &admit : nullptr,
                                                 has_send_batch<T>(0) ? &send_batch : nullptr};
};

template <class T>
struct StorageAdapter {
  static int get(vsp_plugin_instance* p, const uint8_t* k, size_t kl, vsp_kv_sink_fn sink,
                 void* ctx, vsp_error* err) {
    return guard(err, [&] {
      return detail::self<T>(p)->get(std::string_view(reinterpret_cast<const char*>(k), kl), sink,
                                     ctx);
    });
  }
  static int scan(vsp_plugin_instance* p, const uint8_t* s, size_t sl, const uint8_t* e, size_t el,
                  uint32_t limit, uint32_t flags, vsp_kv_sink_fn sink, void* ctx, vsp_error* err) {
    return guard(err, [&] {
      return detail::self<T>(p)->scan(std::string_view(reinterpret_cast<const char*>(s), sl),
                                      std::string_view(reinterpret_cast<const char*>(e), el), limit,
                                      flags, sink, ctx);
    });
  }
  static int commit(vsp_plugin_instance* p, const vsp_txn* txns, size_t count,
                    vsp_txn_result* results, vsp_error* err) {
    return guard(err, [&] { return detail::self<T>(p)->commit(txns, count, results); });
  }
  template <class U = T>
  static constexpr auto has_unsynced(int)
      -> decltype(std::declval<U&>().commit_unsynced(nullptr, size_t{}, nullptr),
                  std::declval<U&>().sync(), bool()) {
    return true;
  }
  template <class U = T>
  static constexpr bool has_unsynced(...) {
    return false;
  }
  static int commit_unsynced(vsp_plugin_instance* p, const vsp_txn* txns, size_t count,
                             vsp_txn_result* results, vsp_error* err) {
    if constexpr (has_unsynced<T>(0)) {
      return guard(err, [&] { return detail::self<T>(p)->commit_unsynced(txns, count, results); });
    } else {
      return VSP_E_UNSUPPORTED;
    }
  }
  static int sync(vsp_plugin_instance* p, vsp_error* err) {
    if constexpr (has_unsynced<T>(0)) {
      return guard(err, [&] { return detail::self<T>(p)->sync(); });
    } else {
      return VSP_E_UNSUPPORTED;
    }
  }
  static inline const vsp_storage_vtbl vtbl = {sizeof(vsp_storage_vtbl),
                                               detail::Lifecycle<T>::table(),
                                               &get,
                                               &scan,
                                               &commit,
                                               has_unsynced<T>(0) ? &commit_unsynced : nullptr,
                                               has_unsynced<T>(0) ? &sync : nullptr};
};

// A discovery class defines
//   int publish(const vsp_service_record&, uint64_t* handle);  void withdraw(uint64_t handle);
// and, if it browses,
//   int browse(const char* type, vsp_browse_fn, void* ctx, uint64_t* handle);
//   void browse_stop(uint64_t handle);
// (without them browse answers VSP_E_UNSUPPORTED).
template <class T>
struct DiscoveryAdapter {
  static int publish(vsp_plugin_instance* p, const vsp_service_record* r, uint64_t* handle,
                     vsp_error* err) {
    if (r == nullptr || handle == nullptr) return VSP_E_INVALID;
    return guard(err, [&] { return detail::self<T>(p)->publish(*r, handle); });
  }
  static void withdraw(vsp_plugin_instance* p, uint64_t handle) {
    guard(nullptr, [&] { detail::self<T>(p)->withdraw(handle); });
  }
  static int browse(vsp_plugin_instance* p, const char* type, vsp_browse_fn fn, void* ctx,
                    uint64_t* handle, vsp_error* err) {
    if constexpr (has_browse<T>(0)) {
      if (type == nullptr || fn == nullptr || handle == nullptr) return VSP_E_INVALID;
      return guard(err, [&] { return detail::self<T>(p)->browse(type, fn, ctx, handle); });
    } else {
      (void)p, (void)type, (void)fn, (void)ctx, (void)handle;
      fill_error(err, VSP_E_UNSUPPORTED, "this discovery plugin does not browse");
      return VSP_E_UNSUPPORTED;
    }
  }
  static void browse_stop(vsp_plugin_instance* p, uint64_t handle) {
    if constexpr (has_browse<T>(0)) {
      guard(nullptr, [&] { detail::self<T>(p)->browse_stop(handle); });
    } else {
      (void)p, (void)handle;
    }
  }
  template <class U = T>
  static constexpr auto has_browse(int)
      -> decltype(std::declval<U&>().browse(nullptr, nullptr, nullptr, nullptr), bool()) {
    return true;
  }
  template <class U = T>
  static constexpr bool has_browse(...) {
    return false;
  }
  static inline const vsp_discovery_vtbl vtbl = {sizeof(vsp_discovery_vtbl),
                                                 detail::Lifecycle<T>::table(),
                                                 &publish,
                                                 &withdraw,
                                                 &browse,
                                                 &browse_stop};
};

// A netbind class defines
//   int resolve(const char* spec, vsp_addr_sink_fn sink, void* ctx);
//   void set_change_callback(vsp_netbind_changed_fn fn, void* ctx);
template <class T>
struct NetbindAdapter {
  static int resolve(vsp_plugin_instance* p, const char* spec, vsp_addr_sink_fn sink, void* ctx,
                     vsp_error* err) {
    if (spec == nullptr || sink == nullptr) return VSP_E_INVALID;
    return guard(err, [&] { return detail::self<T>(p)->resolve(spec, sink, ctx); });
  }
  static void set_change_callback(vsp_plugin_instance* p, vsp_netbind_changed_fn fn, void* ctx) {
    guard(nullptr, [&] { detail::self<T>(p)->set_change_callback(fn, ctx); });
  }
  static inline const vsp_netbind_vtbl vtbl = {
      sizeof(vsp_netbind_vtbl), detail::Lifecycle<T>::table(), &resolve, &set_change_callback};
};

// A bus class (vespid/bus.h, ABI 1.3) provides create/start/stop as above (loop thread) and
//   int publish(std::string_view subject, std::string_view reply_to, std::string_view data);
//   int subscribe(const char* pattern, const char* queue_group /* "" for none */,
//                 vsp_bus_msg_fn fn, void* ctx, uint64_t* handle);
//   void unsubscribe(uint64_t handle);
//   int request(std::string_view subject, std::string_view data, uint32_t timeout_ms,
//               vsp_bus_reply_fn fn, void* ctx);
//   bool is_up();                                                      // all of these: any
//   void set_state_callback(vsp_bus_state_fn fn, void* ctx);          // loop
// Each may throw vsp::Error to refuse with a status and a message.
template <class T>
struct BusAdapter {
  static std::string_view text(const char* p, size_t n) noexcept {
    return n == 0 ? std::string_view() : std::string_view(p, n);
  }
  static int publish(vsp_plugin_instance* p, const char* subject, size_t subject_len,
                     const char* reply_to, size_t reply_len, const uint8_t* data, size_t len,
                     vsp_error* err) {
    if (subject == nullptr || (reply_len > 0 && reply_to == nullptr) ||
        (len > 0 && data == nullptr)) {
      fill_error(err, VSP_E_INVALID, "publish: NULL subject, reply subject or data");
      return VSP_E_INVALID;
    }
    return guard(err, [&] {
      return detail::self<T>(p)->publish(text(subject, subject_len), text(reply_to, reply_len),
                                         text(reinterpret_cast<const char*>(data), len));
    });
  }
  static int subscribe(vsp_plugin_instance* p, const char* pattern, const char* queue_group,
                       vsp_bus_msg_fn fn, void* ctx, uint64_t* handle, vsp_error* err) {
    if (pattern == nullptr || fn == nullptr || handle == nullptr) {
      fill_error(err, VSP_E_INVALID, "subscribe: NULL pattern, callback or handle");
      return VSP_E_INVALID;
    }
    return guard(err, [&] {
      return detail::self<T>(p)->subscribe(pattern, queue_group ? queue_group : "", fn, ctx,
                                           handle);
    });
  }
  static void unsubscribe(vsp_plugin_instance* p, uint64_t handle) {
    guard(nullptr, [&] { detail::self<T>(p)->unsubscribe(handle); });
  }
  static int request(vsp_plugin_instance* p, const char* subject, size_t subject_len,
                     const uint8_t* data, size_t len, uint32_t timeout_ms, vsp_bus_reply_fn fn,
                     void* ctx, vsp_error* err) {
    if (subject == nullptr || fn == nullptr || (len > 0 && data == nullptr)) {
      fill_error(err, VSP_E_INVALID, "request: NULL subject, callback or data");
      return VSP_E_INVALID;
    }
    return guard(err, [&] {
      return detail::self<T>(p)->request(text(subject, subject_len),
                                         text(reinterpret_cast<const char*>(data), len), timeout_ms,
                                         fn, ctx);
    });
  }
  static void set_state_callback(vsp_plugin_instance* p, vsp_bus_state_fn fn, void* ctx) {
    guard(nullptr, [&] { detail::self<T>(p)->set_state_callback(fn, ctx); });
  }
  static int is_up(vsp_plugin_instance* p) {
    int up = 0;
    guard(nullptr, [&] { up = detail::self<T>(p)->is_up() ? 1 : 0; });
    return up;
  }
  static inline const vsp_bus_vtbl vtbl = {sizeof(vsp_bus_vtbl),
                                           detail::Lifecycle<T>::table(),
                                           &publish,
                                           &subscribe,
                                           &unsubscribe,
                                           &request,
                                           &set_state_callback,
                                           &is_up};
};

// Descriptor helpers for VSP_DECLARE_MODULE.
template <class T>
vsp_plugin_desc transport_plugin(const char* id, const char* description) {
  return {sizeof(vsp_plugin_desc),    VSP_KIND_TRANSPORT,        id, description,
          &TransportAdapter<T>::vtbl, sizeof(vsp_transport_vtbl)};
}
template <class T>
vsp_plugin_desc storage_plugin(const char* id, const char* description) {
  return {sizeof(vsp_plugin_desc),  VSP_KIND_STORAGE,        id, description,
          &StorageAdapter<T>::vtbl, sizeof(vsp_storage_vtbl)};
}
template <class T>
vsp_plugin_desc discovery_plugin(const char* id, const char* description) {
  return {sizeof(vsp_plugin_desc),    VSP_KIND_DISCOVERY,        id, description,
          &DiscoveryAdapter<T>::vtbl, sizeof(vsp_discovery_vtbl)};
}
template <class T>
vsp_plugin_desc netbind_plugin(const char* id, const char* description) {
  return {sizeof(vsp_plugin_desc),  VSP_KIND_NETBIND,        id, description,
          &NetbindAdapter<T>::vtbl, sizeof(vsp_netbind_vtbl)};
}
template <class T>
vsp_plugin_desc bus_plugin(const char* id, const char* description) {
  return {sizeof(vsp_plugin_desc), VSP_KIND_BUS,        id, description,
          &BusAdapter<T>::vtbl,    sizeof(vsp_bus_vtbl)};
}

}  // namespace vsp

// Defines `vsp_module_query`, the module's one exported symbol. The descriptor list is built once,
// on first query, and lives for the life of the process (modules are never unloaded).
//   VSP_DECLARE_MODULE("my-module", "1.0.0", vsp::transport_plugin<MyTransport>("mine", "..."))
#define VSP_DECLARE_MODULE(NAME, VERSION, ...)                                        \
  extern "C" VSP_EXPORT const vsp_module_info* vsp_module_query(uint32_t, uint32_t) { \
    static const vsp_plugin_desc vsp_descs_[] = {__VA_ARGS__};                        \
    static const vsp_module_info vsp_info_ = {                                        \
        sizeof(vsp_module_info),                                                      \
        VSP_ABI_MAJOR,                                                                \
        VSP_ABI_MINOR,                                                                \
        NAME,                                                                         \
        VERSION,                                                                      \
        static_cast<uint32_t>(sizeof(vsp_descs_) / sizeof(vsp_descs_[0])),            \
        vsp_descs_};                                                                  \
    return &vsp_info_;                                                                \
  }

#endif  // VESPID_PLUGIN_HPP
