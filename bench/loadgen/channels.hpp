// The request/response channels the load driver runs over JSON lines: the raw echo baselines
// and operator.v1 nodes.invoke on the gateway's admin socket.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "load.hpp"
#include "stream_conn.hpp"

namespace vespid::bench {

// Waits (on the calling thread) for a connect started on `io`; throws std::runtime_error naming
// `what` on failure or after 10 s.
std::shared_ptr<StreamConn> connect_blocking(boost::asio::io_context& io,
                                             const StreamConn::Endpoint& ep,
                                             const std::string& what);

// {"id":N,"p":"<payload>"} per line; the echo (or relay + echo) sends the line back.
std::shared_ptr<Channel> echo_channel(std::shared_ptr<StreamConn> conn, std::string payload);

// operator.v1 `nodes.invoke` of command "echo" with params {"p": payload} on the given nodes,
// round robin starting at `first`. A reply is ok when the gateway answers ok:true.
std::shared_ptr<Channel> invoke_channel(std::shared_ptr<StreamConn> conn,
                                        std::shared_ptr<const std::vector<std::string>> nodes,
                                        std::size_t first, std::string payload);

}  // namespace vespid::bench
