// How busy the gateway's serial parts were during a run, read off its /metrics
// (docs/metrics.md): the core (vespid_core_busy_seconds_total: the wall time some thread held
// it) and the storage thread's commits (vespid_storage_commit_duration_seconds_sum). Each
// divided by the run's wall time is the share of it that part was busy; near 1, that part is
// what holds the load back.
#pragma once

namespace vespid::bench {

struct SerialBusy {
  double core_s;            // NaN when unknown
  double storage_commit_s;  // NaN when unknown
};

// The counters' values now, from GET /metrics on 127.0.0.1:api_port; NaN for what cannot be
// read (a gateway without the metric, a reference gateway, /metrics not routed).
SerialBusy read_serial_busy(int api_port);

}  // namespace vespid::bench
