#include "netbind.hpp"

#include "interface_scan.hpp"  // libs/netaddr

namespace vespid::tailnet {

std::unique_ptr<TailnetNetbind> TailnetNetbind::create(vsp::Host host,
                                                       std::string_view config_json) {
  return std::make_unique<TailnetNetbind>(host, parse_config(config_json));
}

TailnetNetbind::TailnetNetbind(vsp::Host host, Config cfg) : host_(host), cfg_(std::move(cfg)) {}

std::string TailnetNetbind::describe_current() const {
  std::string out;
  for (const auto& f : netaddr::scan_interfaces(cfg_.ranges, cfg_.interfaces)) {
    out += (out.empty() ? "" : ", ") + f.address + " on " + f.interface;
  }
  return out.empty() ? "none yet" : out;
}

void TailnetNetbind::start() {
  netlink_ = std::make_unique<NetlinkWatch>(host_, cfg_.settle_ms, [this] { changed(); });
  if (cfg_.magicdns) {
    magicdns_ = std::make_unique<MagicDns>(host_, cfg_.tailscale_command, [this] {
      if (notify_) notify_(notify_ctx_);
    });
    magicdns_->refresh();
  }
  std::string ranges;
  for (const auto& r : cfg_.ranges) ranges += (ranges.empty() ? "" : ", ") + r.text;
  last_seen_ = describe_current();
  host_.info("tailnet ranges " + ranges + "; tailnet addresses: " + last_seen_);
}

void TailnetNetbind::stop(std::function<void()> done) {
  netlink_.reset();
  magicdns_.reset();
  done();
}

void TailnetNetbind::changed() {
  std::string now = describe_current();
  if (now != last_seen_) {
    host_.info("tailnet addresses: " + now);
    last_seen_ = now;
  }
  if (magicdns_) magicdns_->refresh();  // a tailnet that just came up may have a name now
  if (notify_) notify_(notify_ctx_);
}

int TailnetNetbind::resolve(const std::string& spec, vsp_addr_sink_fn sink, void* ctx) {
  if (spec == "tailnet" || spec == "auto") {
    auto found = netaddr::scan_interfaces(cfg_.ranges, cfg_.interfaces);
    if (found.empty() && spec == "auto") {
      sink(ctx, "127.0.0.1");  // auto: tailnet, else loopback
      return VSP_OK;
    }
    // tailnet with nothing found resolves to nothing: never a wildcard.
    for (const auto& f : found) sink(ctx, f.address.c_str());
    return VSP_OK;
  }
  if (spec == "tailnet-dns") {
    if (magicdns_ && !magicdns_->name().empty()) sink(ctx, magicdns_->name().c_str());
    return VSP_OK;
  }
  return VSP_E_UNSUPPORTED;
}

void TailnetNetbind::set_change_callback(vsp_netbind_changed_fn fn, void* ctx) {
  notify_ = fn;
  notify_ctx_ = ctx;
}

}  // namespace vespid::tailnet
