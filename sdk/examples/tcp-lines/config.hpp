// The tcp-lines transport's configuration, and the small parser that reads it.
//
// The host hands every instance its "config" object from the gateway's config file as JSON text
// ("{}" when there is none). This transport's settings are a flat object of strings and
// integers, so a few dozen lines of parser are enough and the plugin needs no JSON library.
#ifndef TCP_LINES_CONFIG_HPP
#define TCP_LINES_CONFIG_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tcp_lines {

struct Config {
  std::string host = "127.0.0.1";       // an IPv4 or IPv6 address literal to listen on
  uint16_t port = 0;                    // required, 1-65535
  std::string dialect = "operator.v1";  // what the host speaks on this listener's connections
  size_t max_line_bytes = 65536;        // longest accepted line, without its '\n'
  size_t max_connections = 64;          // connections beyond this are accepted and closed at once
  size_t send_queue_bytes = 4u << 20;   // output a slow reader may have queued before it is dropped
};

// Parses the instance's JSON config. Throws vsp::Error(VSP_E_INVALID, ...) with a message that
// names the offending key (or says where the JSON is malformed).
Config parse_config(std::string_view json);

}  // namespace tcp_lines

#endif  // TCP_LINES_CONFIG_HPP
