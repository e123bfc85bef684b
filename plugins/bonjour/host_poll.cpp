#include "host_poll.hpp"

#include <sys/time.h>

#include <new>

// Avahi's opaque handles, defined here: one host watch or timer each.
struct AvahiWatch {
  const vsp_host_api* api;
  vsp_host_watch* watch;
  AvahiWatchCallback callback;
  void* userdata;
  AvahiWatchEvent last;  // what the latest callback reported (watch_get_events)
};

struct AvahiTimeout {
  const vsp_host_api* api;
  vsp_host_timer* timer;
  AvahiTimeoutCallback callback;
  void* userdata;
};

namespace vespid::bonjour {

namespace {

const vsp::Host& host_of(const AvahiPoll* api) {
  return static_cast<HostPoll*>(api->userdata)->host();
}

uint32_t to_host(AvahiWatchEvent e) {
  uint32_t out = 0;
  if (e & AVAHI_WATCH_IN) out |= VSP_WATCH_READ;
  if (e & AVAHI_WATCH_OUT) out |= VSP_WATCH_WRITE;
  return out;  // ERR and HUP are always reported by the host
}

AvahiWatchEvent to_avahi(uint32_t e) {
  int out = 0;
  if (e & VSP_WATCH_READ) out |= AVAHI_WATCH_IN;
  if (e & VSP_WATCH_WRITE) out |= AVAHI_WATCH_OUT;
  if (e & VSP_WATCH_ERROR) out |= AVAHI_WATCH_ERR;
  if (e & VSP_WATCH_HUP) out |= AVAHI_WATCH_HUP;
  return static_cast<AvahiWatchEvent>(out);
}

AvahiWatch* watch_new(const AvahiPoll* api, int fd, AvahiWatchEvent event,
                      AvahiWatchCallback callback, void* userdata) {
  const vsp::Host& host = host_of(api);
  auto* w = new (std::nothrow)
      AvahiWatch{host.api(), nullptr, callback, userdata, static_cast<AvahiWatchEvent>(0)};
  if (w == nullptr) return nullptr;
  w->watch = host.api()->watch_new(
      host.instance(), fd, to_host(event),
      [](vsp_host_watch*, int wfd, uint32_t revents, void* ctx) {
        auto* self = static_cast<AvahiWatch*>(ctx);
        self->last = to_avahi(revents);
        // The callback may free this watch (the host allows it); touch nothing after it.
        self->callback(self, wfd, self->last, self->userdata);
      },
      w);
  if (w->watch == nullptr) {
    delete w;
    return nullptr;
  }
  return w;
}

void watch_update(AvahiWatch* w, AvahiWatchEvent event) {
  w->api->watch_update(w->watch, to_host(event));
}

AvahiWatchEvent watch_get_events(AvahiWatch* w) {
  return w->last;
}

void watch_free(AvahiWatch* w) {
  w->api->watch_free(w->watch);
  delete w;
}

void timeout_update(AvahiTimeout* t, const struct timeval* tv) {
  if (tv == nullptr) {
    t->api->timer_disarm(t->timer);
    return;
  }
  // Avahi speaks absolute wall-clock times (gettimeofday); the host, relative delays.
  timeval now{};
  gettimeofday(&now, nullptr);
  long long us = (static_cast<long long>(tv->tv_sec) - now.tv_sec) * 1000000LL +
                 (static_cast<long long>(tv->tv_usec) - now.tv_usec);
  uint64_t ms = us <= 0 ? 0 : static_cast<uint64_t>((us + 999) / 1000);
  t->api->timer_arm(t->timer, ms, 0);
}

AvahiTimeout* timeout_new(const AvahiPoll* api, const struct timeval* tv,
                          AvahiTimeoutCallback callback, void* userdata) {
  const vsp::Host& host = host_of(api);
  auto* t = new (std::nothrow) AvahiTimeout{host.api(), nullptr, callback, userdata};
  if (t == nullptr) return nullptr;
  t->timer = host.api()->timer_new(
      host.instance(),
      [](vsp_host_timer*, void* ctx) {
        auto* self = static_cast<AvahiTimeout*>(ctx);
        // One-shot, as Avahi expects: the timer stays disarmed until timeout_update.
        self->callback(self, self->userdata);
      },
      t);
  if (t->timer == nullptr) {
    delete t;
    return nullptr;
  }
  if (tv != nullptr) timeout_update(t, tv);
  return t;
}

void timeout_free(AvahiTimeout* t) {
  t->api->timer_free(t->timer);
  delete t;
}

}  // namespace

HostPoll::HostPoll(vsp::Host host) : host_(host) {
  poll_.userdata = this;
  poll_.watch_new = &watch_new;
  poll_.watch_update = &watch_update;
  poll_.watch_get_events = &watch_get_events;
  poll_.watch_free = &watch_free;
  poll_.timeout_new = &timeout_new;
  poll_.timeout_update = &timeout_update;
  poll_.timeout_free = &timeout_free;
}

}  // namespace vespid::bonjour
