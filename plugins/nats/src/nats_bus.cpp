#include "nats_bus.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <random>
#include <vespid/bus_subject.hpp>

#include "probe.hpp"
#include "subscription.hpp"

namespace vespid::natsbus {
namespace {

using namespace std::chrono_literals;

[[noreturn]] void refuse(int status, const std::string& message) {
  throw vsp::Error(status, "nats: " + message);
}

void check_subject(std::string_view subject) {
  if (auto problem = vsp::bus::subject_problem(subject, false); !problem.empty()) {
    refuse(VSP_E_INVALID, problem);
  }
}

int status_for(natsStatus s) {
  switch (s) {
    case NATS_MAX_PAYLOAD:
    case NATS_INSUFFICIENT_BUFFER:
      return VSP_E_OVERFLOW;
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
      return VSP_E_CLOSED;
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_ARG:
      return VSP_E_INVALID;
    case NATS_NO_MEMORY:
      return VSP_E_NOMEM;
    default:
      return VSP_E_IO;
  }
}

}  // namespace

NatsBus::NatsBus(vsp::Host host, Config cfg) : host_(host), cfg_(std::move(cfg)) {
  const std::string name = cfg_.name.empty() ? "vespid-" + host_.instance_name() : cfg_.name;
  opts_ = make_options(cfg_, name);
}

NatsBus::~NatsBus() {
  stop();
}

std::string NatsBus::servers_text() const {
  std::string out;
  for (const auto& s : cfg_.servers) out += (out.empty() ? "" : ", ") + redact_url(s);
  return out;
}

std::string NatsBus::connected_url() {
  char buf[512] = {};
  if (nc_ != nullptr && natsConnection_GetConnectedUrl(nc_, buf, sizeof buf) == NATS_OK &&
      buf[0] != '\0') {
    return redact_url(buf);
  }
  return servers_text();
}

std::string NatsBus::last_connection_error() {
  const char* text = nullptr;
  const natsStatus s = nc_ ? natsConnection_GetLastError(nc_, &text) : NATS_OK;
  if (text != nullptr && *text != '\0') return text;
  return s == NATS_OK ? "the server closed the connection" : natsStatus_GetText(s);
}

void NatsBus::start() {
  if (started_) return;
  natsOptions* o = opts_.get();
  natsStatus s = natsOptions_SetDisconnectedCB(o, &NatsBus::on_disconnected, this);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, &NatsBus::on_reconnected, this);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(o, &NatsBus::on_closed, this);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(o, &NatsBus::on_error, this);
  if (s == NATS_OK) s = natsOptions_SetCustomReconnectDelay(o, &NatsBus::reconnect_delay, this);
  if (s == NATS_OK && !cfg_.connect_required) {
    s = natsOptions_SetRetryOnFailedConnect(o, true, &NatsBus::on_connected, this);
  }
  if (s != NATS_OK) refuse(VSP_E_INTERNAL, "cannot set connection callbacks: " + nats_error(s));

  if (!cfg_.creds_file.empty() && ::access(cfg_.creds_file.c_str(), R_OK) != 0) {
    refuse(VSP_E_INVALID,
           "\"creds_file\" " + cfg_.creds_file + " cannot be read: " + std::strerror(errno));
  }
  if (cfg_.tls.enabled && cfg_.tls.server_name.empty()) {
    host_.warn("nats: TLS toward " + servers_text() +
               ": the server's certificate chain is checked, but an address has no name to "
               "check it against; set \"tls.server_name\" to the name the certificate carries");
  }
  // The loop is made last before connecting: it exists exactly while a connection may.
  loop_ = std::make_unique<SocketLoop>(cfg_.prompt_writes && !cfg_.tls.enabled);
  s = loop_->install(o);
  if (s != NATS_OK) {
    loop_.reset();
    refuse(VSP_E_INTERNAL, "cannot attach the socket loop: " + nats_error(s));
  }
  requests_ = std::make_unique<Requests>();
  s = natsConnection_Connect(&nc_, o);
  if (s == NATS_NOT_YET_CONNECTED && !cfg_.connect_required) {
    host_.warn("nats: cannot connect to " + servers_text() +
               " yet: " + connect_failure(NATS_NO_SERVER) +
               "; connecting in the background (connect_required is false)");
  } else if (s != NATS_OK) {
    requests_.reset();
    if (nc_ != nullptr) natsConnection_Destroy(nc_);
    nc_ = nullptr;
    loop_.reset();
    refuse(VSP_E_IO, "cannot connect to " + servers_text() + ": " + connect_failure(s));
  } else {
    std::lock_guard lock(state_mu_);
    reported_up_ = true;
    url_ = connected_url();
    host_.info("nats: connected to " + url_ + " (server max_payload " +
               std::to_string(natsConnection_GetMaxPayload(nc_)) + " bytes" +
               (cfg_.tls.enabled ? ", TLS" : "") + ")");
  }
  try {
    subscribe_inbox();
  } catch (...) {
    natsConnection_Close(nc_);
    wait_flag(closed_, "close");
    natsConnection_Destroy(nc_);
    nc_ = nullptr;
    loop_.reset();
    requests_.reset();
    throw;
  }
  started_ = true;
}

std::string NatsBus::connect_failure(natsStatus s) {
  if (s != NATS_NO_SERVER) return nats_error(s);
  // Every server failed; say why each did when it failed below TLS and authentication.
  std::string out;
  for (const auto& url : cfg_.servers) {
    const auto why = tcp_probe(url, cfg_.connect_timeout);
    if (!why) return nats_error(s);  // reachable: the trouble is past TCP, libnats's words
    out += (out.empty() ? "" : "; ") +
           (cfg_.servers.size() > 1 ? redact_url(url) + ": " : std::string()) + *why;
  }
  return out;
}

void NatsBus::subscribe_inbox() {
  natsInbox* inbox = nullptr;
  natsStatus s = natsInbox_Create(&inbox);
  if (s != NATS_OK) refuse(VSP_E_INTERNAL, "cannot make a reply inbox: " + nats_error(s));
  inbox_ = inbox;
  natsInbox_Destroy(inbox);
  // The one subscription libnats delivers on a thread of its own: a "no responders" status
  // reaches a synchronous subscription without its subject, which names the request it is for.
  s = natsConnection_Subscribe(&inbox_sub_, nc_, (inbox_ + ".*").c_str(), &NatsBus::on_reply, this);
  if (s == NATS_OK) {
    s = natsSubscription_SetOnCompleteCB(inbox_sub_, &NatsBus::on_inbox_done, this);
  }
  if (s == NATS_OK) {
    s = natsSubscription_SetPendingLimits(inbox_sub_, static_cast<int>(cfg_.max_sub_pending_msgs),
                                          static_cast<int>(cfg_.max_sub_pending_bytes));
  }
  if (s != NATS_OK) {
    if (inbox_sub_ != nullptr) natsSubscription_Destroy(inbox_sub_);
    inbox_sub_ = nullptr;
    refuse(VSP_E_IO, "cannot subscribe the reply inbox: " + nats_error(s));
  }
}

void NatsBus::wait_flag(bool& flag, const char* what) {
  std::unique_lock lock(done_mu_);
  if (!done_cv_.wait_for(lock, 10s, [&] { return flag; })) {
    host_.warn(std::string("nats: libnats did not confirm the ") + what + " within 10 s");
  }
}

void NatsBus::stop() {
  if (!started_.exchange(false)) return;
  stopping_ = true;
  requests_->fail_all(VSP_E_CLOSED);
  std::map<uint64_t, Subscription*> subs;
  {
    std::lock_guard lock(subs_mu_);
    subs.swap(subs_);
  }
  for (auto& [id, sub] : subs) end_subscription(sub);
  natsSubscription_Unsubscribe(inbox_sub_);
  natsSubscription_Destroy(inbox_sub_);
  inbox_sub_ = nullptr;
  wait_flag(inbox_done_, "end of the reply inbox");
  if (natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED) {
    // What was published last is still in libnats's buffer for the loop to write; its close
    // would drop it.
    natsConnection_FlushTimeout(nc_, 1000);
  }
  natsConnection_Close(nc_);
  wait_flag(closed_, "close");
  natsConnection_Destroy(nc_);
  nc_ = nullptr;
  loop_.reset();
  requests_.reset();
  host_.info("nats: closed the connection to " + servers_text());
}

void NatsBus::send(const std::string& subject, const char* reply, std::string_view data) {
  if (natsConnection_Status(nc_) != NATS_CONN_STATUS_CONNECTED) {
    refuse(VSP_E_CLOSED, "not connected to " + servers_text() + " (the bus is down)");
  }
  const int64_t max = natsConnection_GetMaxPayload(nc_);
  if (static_cast<int64_t>(data.size()) > max) {
    refuse(VSP_E_OVERFLOW, "a payload of " + std::to_string(data.size()) + " bytes on \"" +
                               subject + "\" exceeds the server's max_payload (" +
                               std::to_string(max) + ")");
  }
  std::lock_guard lock(publish_mu_);
  // The protocol line around the payload is ~30 bytes plus the subjects.
  const uint64_t adding = data.size() + subject.size() + (reply ? std::strlen(reply) : 0) + 64;
  const int buffered = natsConnection_Buffered(nc_);
  if (buffered >= 0 && static_cast<uint64_t>(buffered) + adding > cfg_.max_pending_bytes) {
    refuse(VSP_E_OVERFLOW, "the outgoing buffer holds " + std::to_string(buffered) +
                               " bytes; max_pending_bytes (" +
                               std::to_string(cfg_.max_pending_bytes) + ") leaves no room for " +
                               std::to_string(adding) + " more (the server is slow)");
  }
  const int len = static_cast<int>(data.size());
  const natsStatus s =
      reply ? natsConnection_PublishRequest(nc_, subject.c_str(), reply, data.data(), len)
            : natsConnection_Publish(nc_, subject.c_str(), data.data(), len);
  if (s != NATS_OK) refuse(status_for(s), "publish to \"" + subject + "\": " + nats_error(s));
}

void NatsBus::publish(std::string_view subject, std::string_view reply_to, std::string_view data) {
  if (!started_ || stopping_) refuse(VSP_E_CLOSED, "not running");
  check_subject(subject);
  if (!reply_to.empty()) check_subject(reply_to);
  const std::string reply(reply_to);
  send(std::string(subject), reply.empty() ? nullptr : reply.c_str(), data);
}

uint64_t NatsBus::subscribe(std::string_view pattern, std::string_view group, vsp_bus_msg_fn fn,
                            void* ctx) {
  if (!started_ || stopping_) refuse(VSP_E_CLOSED, "not running");
  if (auto problem = vsp::bus::subject_problem(pattern, true); !problem.empty()) {
    refuse(VSP_E_INVALID, problem);
  }
  if (!group.empty()) {
    if (auto problem = vsp::bus::queue_group_problem(group); !problem.empty()) {
      refuse(VSP_E_INVALID, problem);
    }
  }
  auto sub = std::make_unique<Subscription>(fn, ctx);
  const std::string p(pattern), g(group);
  // A connection that is down still takes subscriptions: libnats sends them when it is back.
  natsStatus s = g.empty()
                     ? natsConnection_SubscribeSync(&sub->handle, nc_, p.c_str())
                     : natsConnection_QueueSubscribeSync(&sub->handle, nc_, p.c_str(), g.c_str());
  if (s != NATS_OK) refuse(status_for(s), "subscribe to \"" + p + "\": " + nats_error(s));
  s = natsSubscription_SetPendingLimits(sub->handle, static_cast<int>(cfg_.max_sub_pending_msgs),
                                        static_cast<int>(cfg_.max_sub_pending_bytes));
  if (s != NATS_OK) {
    natsSubscription_Unsubscribe(sub->handle);
    natsSubscription_Destroy(sub->handle);
    refuse(status_for(s), "subscribe to \"" + p + "\": " + nats_error(s));
  }
  loop_->add_subscription(sub->handle, &Subscription::deliver, sub.get());
  std::lock_guard lock(subs_mu_);
  const uint64_t id = ++next_sub_;
  subs_.emplace(id, sub.release());
  return id;
}

void NatsBus::unsubscribe(uint64_t handle) {
  Subscription* sub = nullptr;
  {
    std::lock_guard lock(subs_mu_);
    auto it = subs_.find(handle);
    if (it == subs_.end()) return;
    sub = it->second;
    subs_.erase(it);
  }
  end_subscription(sub);
}

void NatsBus::end_subscription(Subscription* sub) {
  loop_->remove_subscription(sub->handle);
  natsSubscription_Unsubscribe(sub->handle);
  natsSubscription_Destroy(sub->handle);
  delete sub;
}

void NatsBus::request(std::string_view subject, std::string_view data, uint32_t timeout_ms,
                      vsp_bus_reply_fn fn, void* ctx) {
  if (!started_ || stopping_) refuse(VSP_E_CLOSED, "not running");
  check_subject(subject);
  const auto timeout = timeout_ms ? std::chrono::milliseconds(timeout_ms) : cfg_.request_timeout;
  const uint64_t id = requests_->add(fn, ctx, timeout);
  const std::string reply = inbox_ + "." + std::to_string(id);
  try {
    send(std::string(subject), reply.c_str(), data);
  } catch (...) {
    // If the connection was lost meanwhile, the callback already ran (VSP_E_CLOSED) and the
    // request counts as made; otherwise it was never made.
    if (requests_->cancel(id)) throw;
  }
}

void NatsBus::set_state_callback(vsp_bus_state_fn fn, void* ctx) {
  std::lock_guard lock(state_mu_);
  state_fn_ = fn;
  state_ctx_ = ctx;
}

bool NatsBus::is_up() const {
  return started_ && !stopping_ && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

void NatsBus::report(bool up, const std::string& reason) {
  std::lock_guard lock(state_mu_);
  if (up == reported_up_) return;
  reported_up_ = up;
  if (up) {
    host_.info("nats: " + reason);
  } else {
    host_.warn("nats: " + reason);
  }
  if (state_fn_ != nullptr) state_fn_(state_ctx_, up ? 1 : 0, reason.c_str());
}

void NatsBus::on_connected(natsConnection*, void* closure) {
  auto* self = static_cast<NatsBus*>(closure);
  if (self->stopping_) return;
  const std::string url = self->connected_url();
  {
    std::lock_guard lock(self->state_mu_);
    self->url_ = url;
  }
  self->report(true, "connected to " + url);
}

void NatsBus::on_disconnected(natsConnection*, void* closure) {
  auto* self = static_cast<NatsBus*>(closure);
  if (self->stopping_) return;
  // Fail fast: a reply cannot come over a connection that is gone.
  if (self->requests_) self->requests_->fail_all(VSP_E_CLOSED);
  std::string url;
  {
    std::lock_guard lock(self->state_mu_);
    url = self->url_.empty() ? self->servers_text() : self->url_;
  }
  self->report(false, "connection to " + url + " lost (" + self->last_connection_error() +
                          "); reconnecting");
}

void NatsBus::on_reconnected(natsConnection*, void* closure) {
  auto* self = static_cast<NatsBus*>(closure);
  if (self->stopping_) return;
  const std::string url = self->connected_url();
  {
    std::lock_guard lock(self->state_mu_);
    self->url_ = url;
  }
  self->report(true, "reconnected to " + url);
}

void NatsBus::on_closed(natsConnection*, void* closure) {
  auto* self = static_cast<NatsBus*>(closure);
  const bool unexpected = !self->stopping_;
  std::string why;
  if (unexpected) {
    // Reconnecting forever, a connection closes by itself only when the server refuses it for
    // good (e.g. its credentials were revoked): the bus is down until the gateway restarts.
    why = "the connection closed for good: " + self->last_connection_error();
    if (self->requests_) self->requests_->fail_all(VSP_E_CLOSED);
    self->report(false, why);
  }
  {
    std::lock_guard lock(self->done_mu_);
    self->closed_ = true;
    self->done_cv_.notify_all();
  }
  if (unexpected) {
    const vsp::Host host = self->host_;
    host.post([host, why] { host.report_failure(VSP_E_IO, "nats: " + why); });
  }
}

void NatsBus::on_error(natsConnection*, natsSubscription* sub, natsStatus err, void* closure) {
  auto* self = static_cast<NatsBus*>(closure);
  std::string where;
  if (sub != nullptr) {
    const char* subject = natsSubscription_GetSubject(sub);
    where = std::string(" on \"") + (subject ? subject : "?") + "\"";
  }
  if (err == NATS_SLOW_CONSUMER) {
    self->host_.warn("nats: a subscription" + where +
                     " fell behind: messages were dropped (max_sub_pending_msgs "
                     "/ max_sub_pending_bytes)");
  } else {
    self->host_.warn("nats: " + std::string(natsStatus_GetText(err)) + where);
  }
}

void NatsBus::on_reply(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* self = static_cast<NatsBus*>(closure);
  std::string_view subject = natsMsg_GetSubject(msg);
  uint64_t id = 0;
  const auto dot = subject.rfind('.');
  const std::string_view digits = subject.substr(dot == std::string_view::npos ? 0 : dot + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec == std::errc() && end == digits.data() + digits.size() && self->requests_) {
    if (natsMsg_IsNoResponders(msg)) {
      self->requests_->complete(id, VSP_E_NOT_FOUND, nullptr, 0);
    } else {
      self->requests_->complete(id, VSP_OK, reinterpret_cast<const uint8_t*>(natsMsg_GetData(msg)),
                                static_cast<size_t>(natsMsg_GetDataLength(msg)));
    }
  }
  natsMsg_Destroy(msg);
}

void NatsBus::on_inbox_done(void* closure) {
  auto* self = static_cast<NatsBus*>(closure);
  std::lock_guard lock(self->done_mu_);
  self->inbox_done_ = true;
  self->done_cv_.notify_all();
}

int64_t NatsBus::reconnect_delay(natsConnection*, int attempts, void* closure) {
  auto* self = static_cast<NatsBus*>(closure);
  // 100 ms after the first round over the servers, doubling up to max_reconnect_wait_ms, with
  // up to a quarter of jitter so that many gateways do not come back in step.
  const int64_t cap = self->cfg_.max_reconnect_wait.count();
  const int shift = std::clamp(attempts - 1, 0, 20);
  const int64_t base = std::min<int64_t>(cap, int64_t{100} << shift);
  thread_local std::minstd_rand rng(std::random_device{}());
  return base - static_cast<int64_t>(rng() % static_cast<uint64_t>(base / 4 + 1));
}

}  // namespace vespid::natsbus
