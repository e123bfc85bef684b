// The connection half of the host table (conn_open, conn_recv, conn_closed, conn_writable,
// conn_protocol_error, and which shard an I/O thread serves for io_thread_begin), implemented by
// the connection hub. Thread: any (the transports' own threads call these); each implementation
// says how it hands work to the Sequencer.
#pragma once

#include <cstddef>

#include "vespid/host.h"

namespace vespid::core {

class PluginInstance;
class Sequencer;

class ConnectionServices {
 public:
  virtual ~ConnectionServices() = default;

  virtual int open(PluginInstance& transport, const vsp_conn_info& info, vsp_plugin_conn* pc,
                   vsp_host_conn** out, vsp_error* err) = 0;
  virtual int recv(vsp_host_conn* c, const char* data, size_t len) = 0;
  virtual void closed(vsp_host_conn* c, int status, const char* reason) = 0;
  virtual void writable(vsp_host_conn* c) = 0;
  virtual void protocol_error(vsp_host_conn* c, int status, const char* message) = 0;
  // The Sequencer of the shard that the calling thread, one of `transport`'s I/O threads, is
  // bound to: the shard its connections will have (io_thread_begin).
  virtual Sequencer& sequencer_of_this_thread(PluginInstance& transport) = 0;
};

}  // namespace vespid::core
