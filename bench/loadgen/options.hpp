// Options every subcommand shares, and each scenario's own.
#pragma once

#include <string>

#include "gateway_runner.hpp"

namespace vespid::bench {

struct CommonOptions {
  int threads = 1;  // client threads (io_contexts)
  double warmup_s = 1;
  double duration_s = 5;
  int size = 64;  // payload bytes carried by every request, gateway and baselines
  bool json = false;
  bool baselines = true;
  std::string nats_bin = "/usr/sbin/nats-server";
  GatewayOptions gateway;
};

struct InvokeOptions {
  int nodes = 100;
  int callers = 4;
  int in_flight = 16;  // per caller: callers × in_flight requests in flight in the load run
  double rate = 0;     // also an open-loop run at this many invokes/s (0: none)
};

struct DispatchOptions {
  int hosts = 16;
  int callers = 4;
  int in_flight = 4;
};

struct IdleOptions {
  int nodes = 1000;
  std::string transport = "bridge";  // bridge or ws
};

struct ReconnectOptions {
  int nodes = 1000;
  int rounds = 3;
};

struct SoakOptions {
  int nodes = 100;
  int callers = 4;
  int in_flight = 16;
  double rate = 5000;   // invokes/s, paced; leaves the machine room for the gateway's own work
  double round_s = 30;  // each round: fresh operator connections, then every node reconnects
  double settle_s = 3;  // idle pause before each memory reading
};

int run_invoke(const CommonOptions& c, const InvokeOptions& o);
int run_dispatch(const CommonOptions& c, const DispatchOptions& o);
int run_idle(const CommonOptions& c, const IdleOptions& o);
int run_reconnect(const CommonOptions& c, const ReconnectOptions& o);
int run_soak(const CommonOptions& c, const SoakOptions& o);
int run_baselines_only(const CommonOptions& c, const InvokeOptions& o);

}  // namespace vespid::bench
