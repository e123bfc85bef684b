#include "host/bus/plugin_bus.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "host/plugins/instance_services.hpp"
#include "host/plugins/plugin_instance.hpp"
#include "runtime/logging.hpp"

namespace vespid::host {

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("bus");
}

vsp_error fresh_error() {
  vsp_error e{};
  e.struct_size = sizeof e;
  return e;
}

BusStatus status_of(int code) {
  switch (code) {
    case VSP_OK:
      return BusStatus::Ok;
    case VSP_E_TIMEOUT:
      return BusStatus::Timeout;
    case VSP_E_NOT_FOUND:
      return BusStatus::NoResponders;
    case VSP_E_CLOSED:
      return BusStatus::Down;
    default:
      return BusStatus::Error;
  }
}

const char* code_text(int code) {
  switch (code) {
    case VSP_E_CLOSED:
      return "the bus is down";
    case VSP_E_OVERFLOW:
      return "too large, or the bus's outgoing buffer is full";
    case VSP_E_INVALID:
      return "malformed subject";
    default:
      return "refused";
  }
}

// The subscriptions whose handler this thread is running now, innermost first, so that an
// unsubscribe from inside a handler frees the subscription only once its handler returned.
struct Frame {
  const void* sub;
  Frame* outer;
};
thread_local Frame* t_frames = nullptr;

bool running_here(const void* sub) {
  for (Frame* f = t_frames; f != nullptr; f = f->outer) {
    if (f->sub == sub) return true;
  }
  return false;
}

}  // namespace

struct PluginBus::Sub {
  Handler handler;
  std::string pattern;
  bool unsubscribed_inside = false;  // freed by deliver() once the running call returns
};

struct PluginBus::Req {
  std::function<void(BusReply)> done;
  std::string subject;
  uint32_t timeout_ms;
};

// Calls into the plugin count themselves here, so that stop() can wait until none is running
// before it stops and destroys the instance; once stopping began, new calls do not reach it.
class PluginBus::CallGuard {
 public:
  explicit CallGuard(const PluginBus& bus) : bus_(bus) {
    bus_.calls_.fetch_add(1);
    ok_ = bus_.running_.load();
  }
  ~CallGuard() {
    if (bus_.calls_.fetch_sub(1) == 1 && !bus_.running_.load()) {
      std::lock_guard lock(bus_.calls_mu_);
      bus_.calls_cv_.notify_all();
    }
  }
  CallGuard(const CallGuard&) = delete;
  CallGuard& operator=(const CallGuard&) = delete;
  bool ok() const noexcept { return ok_; }

 private:
  const PluginBus& bus_;
  bool ok_;
};

PluginBus::PluginBus(core::PluginInstance& instance) : inst_(instance), vtbl_(instance.bus()) {}

PluginBus::~PluginBus() {
  stop(std::chrono::seconds(5));
}

const std::string& PluginBus::instance_name() const noexcept {
  return inst_.name();
}

std::string_view PluginBus::plugin_name() const {
  return inst_.plugin_id();
}

void PluginBus::start() {
  if (started_) return;
  if (vtbl_.publish == nullptr || vtbl_.subscribe == nullptr || vtbl_.unsubscribe == nullptr ||
      vtbl_.request == nullptr || vtbl_.set_state_callback == nullptr || vtbl_.is_up == nullptr) {
    inst_.set_state(core::PluginInstance::State::Failed);
    throw std::runtime_error("its bus table lacks a function the ABI requires");
  }
  vsp_error err = fresh_error();
  vsp_plugin_instance* p = nullptr;
  int rc = inst_.life().create(core::host_api(), inst_.handle(), inst_.config_json().data(),
                               inst_.config_json().size(), &p, &err);
  if (rc == VSP_OK) {
    inst_.set_plugin(p);
    // Before start, so that no change of state is missed.
    vtbl_.set_state_callback(p, &PluginBus::state_changed, this);
    err = fresh_error();
    rc = inst_.life().start(p, &err);
    if (rc != VSP_OK) {
      inst_.life().destroy(p);
      inst_.set_plugin(nullptr);
    }
  }
  if (rc != VSP_OK) {
    inst_.set_state(core::PluginInstance::State::Failed);
    throw std::runtime_error(err.message[0] ? err.message : "failed to start (no message)");
  }
  inst_.set_state(core::PluginInstance::State::Started);
  started_ = true;
  running_.store(true);
}

void PluginBus::stop(std::chrono::milliseconds timeout) {
  if (!started_) return;
  started_ = false;
  inst_.set_state(core::PluginInstance::State::Stopping);
  running_.store(false);
  {
    // Calls that began before running_ went false finish first; they do not block (publish,
    // request) or wait only for a handler that itself no longer reaches the plugin.
    std::unique_lock lock(calls_mu_);
    calls_cv_.wait(lock, [this] { return calls_.load() == 0; });
  }
  std::map<SubscriptionId, std::unique_ptr<Sub>> subs;
  {
    std::lock_guard lock(mu_);
    subs.swap(subs_);
  }
  vsp_plugin_instance* p = inst_.plugin();
  for (auto& [id, sub] : subs) {
    vtbl_.unsubscribe(p, id);
    if (running_here(sub.get())) {
      sub->unsubscribed_inside = true;
      sub.release();
    }
  }
  // The plugin may call done on any thread; it fails the requests still waiting first.
  struct Done {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto done = std::make_shared<Done>();
  auto* keep = new std::shared_ptr<Done>(done);  // the plugin's reference, freed by the callback
  inst_.life().stop(
      p,
      [](void* ctx) {
        std::unique_ptr<std::shared_ptr<Done>> d(static_cast<std::shared_ptr<Done>*>(ctx));
        std::lock_guard lock((*d)->mu);
        (*d)->done = true;
        (*d)->cv.notify_all();
      },
      keep);
  bool finished;
  {
    std::unique_lock lock(done->mu);
    finished = done->cv.wait_for(lock, timeout, [&] { return done->done; });
  }
  if (!finished) {
    // Destroying an instance that has not finished stopping risks a use-after-free; keeping
    // its memory until exit does not.
    L()->warn("bus \"{}\" ({}) did not finish stopping within {} ms; not destroying it",
              inst_.name(), inst_.plugin_id(), timeout.count());
    return;
  }
  inst_.life().destroy(p);
  inst_.set_plugin(nullptr);
  inst_.set_state(core::PluginInstance::State::Stopped);
}

int PluginBus::try_publish(std::string_view subject, std::string_view data,
                           std::string_view reply_to, std::string* why) {
  CallGuard guard(*this);
  if (!guard.ok()) {
    if (why) *why = "the bus is not running";
    return VSP_E_CLOSED;
  }
  vsp_error err = fresh_error();
  int rc = vtbl_.publish(inst_.plugin(), subject.data(), subject.size(), reply_to.data(),
                         reply_to.size(), reinterpret_cast<const uint8_t*>(data.data()),
                         data.size(), &err);
  if (rc != VSP_OK && why) *why = err.message[0] ? err.message : code_text(rc);
  return rc;
}

bool PluginBus::publish(std::string_view subject, std::string_view data,
                        std::string_view reply_to) {
  std::string why;
  int rc = try_publish(subject, data, reply_to, &why);
  if (rc == VSP_OK) return true;
  log_refusal(rc, subject, why);
  return false;
}

void PluginBus::log_refusal(int status, std::string_view subject, const std::string& why) {
  // A bus that is down refuses every publish; one line a second says so without flooding.
  uint64_t more = 0;
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_log_ < std::chrono::seconds(1)) {
      ++refusals_unlogged_;
      return;
    }
    last_refusal_log_ = now;
    more = std::exchange(refusals_unlogged_, 0);
  }
  if (more > 0) {
    L()->warn("bus: publish to \"{}\" refused ({}): {} ({} more refused in the last second)",
              subject, status, why, more);
  } else {
    L()->warn("bus: publish to \"{}\" refused ({}): {}", subject, status, why);
  }
}

Bus::SubscriptionId PluginBus::subscribe(std::string pattern, std::string queue_group, Handler h) {
  auto sub = std::make_unique<Sub>();
  sub->handler = std::move(h);
  sub->pattern = pattern;
  uint64_t handle = 0;
  vsp_error err = fresh_error();
  int rc;
  {
    CallGuard guard(*this);
    if (!guard.ok()) {
      throw std::runtime_error("bus: cannot subscribe to \"" + pattern +
                               "\": the bus is not running");
    }
    rc = vtbl_.subscribe(inst_.plugin(), pattern.c_str(),
                         queue_group.empty() ? nullptr : queue_group.c_str(), &PluginBus::deliver,
                         sub.get(), &handle, &err);
    if (rc == VSP_OK) {
      std::lock_guard lock(mu_);
      subs_.emplace(handle, std::move(sub));
    }
  }
  if (rc != VSP_OK) {
    throw std::runtime_error("bus: cannot subscribe to \"" + pattern +
                             "\": " + (err.message[0] ? err.message : code_text(rc)));
  }
  return handle;
}

void PluginBus::unsubscribe(SubscriptionId id) {
  CallGuard guard(*this);
  if (!guard.ok()) return;  // stop() ends every subscription itself
  std::unique_ptr<Sub> sub;
  {
    std::lock_guard lock(mu_);
    auto it = subs_.find(id);
    if (it == subs_.end()) return;
    sub = std::move(it->second);
    subs_.erase(it);
  }
  vtbl_.unsubscribe(inst_.plugin(), id);
  if (running_here(sub.get())) {
    sub->unsubscribed_inside = true;
    sub.release();  // deliver() frees it when the handler returns
  }
}

void PluginBus::deliver(void* ctx, const vsp_bus_msg* m) {
  auto* sub = static_cast<Sub*>(ctx);
  Frame frame{sub, t_frames};
  t_frames = &frame;
  BusMessage msg{std::string_view(m->subject, m->subject_len),
                 m->reply_len ? std::string_view(m->reply_to, m->reply_len) : std::string_view(),
                 std::string_view(reinterpret_cast<const char*>(m->data), m->len)};
  try {
    sub->handler(msg);
  } catch (const std::exception& e) {
    L()->error("bus: handler of \"{}\" threw on \"{}\": {}", sub->pattern, msg.subject, e.what());
  } catch (...) {
    L()->error("bus: handler of \"{}\" threw on \"{}\"", sub->pattern, msg.subject);
  }
  t_frames = frame.outer;
  if (sub->unsubscribed_inside && !running_here(sub)) delete sub;
}

void PluginBus::request(std::string_view subject, std::string_view data,
                        std::chrono::milliseconds timeout, std::function<void(BusReply)> done) {
  const auto ms = std::clamp<int64_t>(timeout.count(), 0, std::numeric_limits<uint32_t>::max());
  auto req =
      std::make_unique<Req>(Req{std::move(done), std::string(subject), static_cast<uint32_t>(ms)});
  int rc;
  vsp_error err = fresh_error();
  {
    CallGuard guard(*this);
    if (!guard.ok()) {
      rc = VSP_E_CLOSED;
      std::snprintf(err.message, sizeof err.message, "the bus is not running");
    } else {
      Req* raw = req.release();  // the plugin's until replied(), on VSP_OK
      rc = vtbl_.request(inst_.plugin(), subject.data(), subject.size(),
                         reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                         static_cast<uint32_t>(ms), &PluginBus::replied, raw, &err);
      if (rc != VSP_OK) req.reset(raw);
    }
  }
  if (rc == VSP_OK) return;
  // Refused outright: the plugin never calls back, so `done` runs here.
  BusReply reply{status_of(rc), {}, err.message[0] ? err.message : code_text(rc)};
  try {
    req->done(std::move(reply));
  } catch (const std::exception& e) {
    L()->error("bus: request callback for \"{}\" threw: {}", req->subject, e.what());
  }
}

void PluginBus::replied(void* ctx, int status, const uint8_t* data, size_t len) {
  std::unique_ptr<Req> req(static_cast<Req*>(ctx));
  BusReply reply{status_of(status), {}, {}};
  switch (status) {
    case VSP_OK:
      reply.data.assign(reinterpret_cast<const char*>(data), len);
      break;
    case VSP_E_TIMEOUT:
      reply.error = "no reply on \"" + req->subject + "\" in time" +
                    (req->timeout_ms ? " (" + std::to_string(req->timeout_ms) + " ms)" : "");
      break;
    case VSP_E_NOT_FOUND:
      reply.error = "no responders on \"" + req->subject + "\"";
      break;
    case VSP_E_CLOSED:
      reply.error = "the bus went down while waiting for a reply on \"" + req->subject + "\"";
      break;
    default:
      reply.error =
          "request on \"" + req->subject + "\" failed (status " + std::to_string(status) + ")";
  }
  try {
    req->done(std::move(reply));
  } catch (const std::exception& e) {
    L()->error("bus: request callback for \"{}\" threw: {}", req->subject, e.what());
  } catch (...) {
    L()->error("bus: request callback for \"{}\" threw", req->subject);
  }
}

bool PluginBus::up() const {
  CallGuard guard(*this);
  return guard.ok() && vtbl_.is_up(inst_.plugin()) != 0;
}

void PluginBus::on_state(std::function<void(bool up, std::string_view reason)> fn) {
  auto shared = fn ? std::make_shared<StateFn>(std::move(fn)) : nullptr;
  std::lock_guard lock(mu_);
  state_fn_ = std::move(shared);
}

void PluginBus::state_changed(void* ctx, int up, const char* reason) {
  auto* self = static_cast<PluginBus*>(ctx);
  std::string_view why = reason ? reason : "";
  if (up) {
    L()->info("bus \"{}\" ({}) up: {}", self->inst_.name(), self->inst_.plugin_id(), why);
  } else {
    L()->warn("bus \"{}\" ({}) down: {}", self->inst_.name(), self->inst_.plugin_id(), why);
  }
  std::shared_ptr<StateFn> fn;
  {
    std::lock_guard lock(self->mu_);
    fn = self->state_fn_;
  }
  if (!fn) return;
  try {
    (*fn)(up != 0, why);
  } catch (const std::exception& e) {
    L()->error("bus: state callback threw: {}", e.what());
  }
}

}  // namespace vespid::host
