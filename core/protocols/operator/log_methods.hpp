// logs.tail / logs.untail: the gateway's recent log lines, then its new ones as `log` events,
// for gateway administrators and the local admin (runtime/log_tail.hpp keeps the lines).
#pragma once

#include <functional>
#include <memory>

#include "protocols/method_table.hpp"

namespace vespid::log {
class LogTail;
}
namespace vespid::repo {
class Repository;
}

namespace vespid::core {

class OperatorDialect;

struct LogMethodServices {
  repo::Repository& repo;
  OperatorDialect& ops;
  std::shared_ptr<log::LogTail> tail;  // null: log.tail_lines is 0
  // Any thread: runs the function inside the Sequencer later (Loop::post_core). Never runs it
  // inline: it is called from inside the logging sink.
  std::function<void(std::function<void()>)> post_core;
};

void register_log_methods(MethodTable& table, LogMethodServices services);

}  // namespace vespid::core
