// One pipeline of statements for a connection: what the storage thread hands the loop thread and
// gets back. Its statements go out together, closed by one Sync, and their results come back in
// order: one network round trip however many statements it holds.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "params.hpp"
#include "pg_result.hpp"

namespace vespid::postgres {

struct Statement {
  enum class Kind : uint8_t {
    sql,       // `text` with `params` (extended protocol, unnamed statement)
    prepared,  // the statement prepared as `name`, with `params`
    prepare,   // prepares `text` as `name` for this session
  };
  Kind kind = Kind::sql;
  std::string text;
  std::string name;
  Params params;

  static Statement sql(std::string text, Params params = {}) {
    return Statement{Kind::sql, std::move(text), {}, std::move(params)};
  }
  static Statement prepared(std::string name, Params params) {
    return Statement{Kind::prepared, {}, std::move(name), std::move(params)};
  }
  static Statement prepare(std::string name, std::string text) {
    return Statement{Kind::prepare, std::move(text), std::move(name), {}};
  }
};

enum class Failure : uint8_t {
  none,     // every statement got its result (each may still be an SQL error)
  lost,     // the connection broke (or was never there) before the Sync came back
  timeout,  // no complete answer within the deadline; the connection was closed
  closed,   // the plugin is stopping
};

struct Request {
  std::vector<Statement> statements;
  // When non-zero: the server is asked to send the results of the first `early_results`
  // statements as soon as it has them (a Flush after them), and the caller is woken with those
  // while the rest still runs (Pool::run answers Ran::early; Pool::finish_run waits for the
  // rest). The pipeline is still one round trip; its tail just ends later.
  size_t early_results = 0;
  // Written by the loop thread while the request runs, read by the caller after it completed:
  // the first result the server sent for each statement (null where none came). Sized before
  // the request is sent and written by index, so that after an early wake the caller may read
  // the first `early_results` while the loop thread fills the others.
  std::vector<ResultPtr> results;
  Failure failure = Failure::none;
  std::string message;  // with a failure: why, on one line

  // Index of the first statement that did not succeed, or -1.
  int first_error() const noexcept {
    for (size_t i = 0; i < results.size(); ++i) {
      if (!succeeded(results[i].get())) return static_cast<int>(i);
    }
    return -1;
  }
};

}  // namespace vespid::postgres
