// What every session of one instance reads: the host, the configuration, the routes, the TLS
// context, the static files and the registry. Immutable after start() except the registry;
// sessions hold it by shared_ptr so it outlives the last of them.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "registry.hpp"
#include "routes.hpp"
#include "static_files.hpp"

namespace vespid::ws {

struct Shared {
  Shared(vsp::Host h, Config c)
      : host(h), cfg(std::move(c)), routes(cfg.routes), registry(cfg.max_connections) {}

  vsp::Host host;
  const Config cfg;
  const RouteTable routes;
  std::unique_ptr<boost::asio::ssl::context> tls;  // set at start() when cfg.tls
  StaticFiles files;                               // set at start() when cfg.static_dir is set
  Registry registry;
};

}  // namespace vespid::ws
