// operator.v1: the gateway's own control dialect, on any transport.
//   req   {type:"req", id, method, params?}
//   res   {type:"res", id, ok, payload? | error{code, message, details?}}
//   event {type:"event", event, payload, seq}
#pragma once

#include "conn/dialect.hpp"
#include "operator/method_table.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::core {

class OperatorDialect final : public Dialect {
 public:
  OperatorDialect(const MethodTable& methods, repo::Repository& repo)
      : methods_(methods), repo_(repo) {}

  std::string_view name() const noexcept override { return "operator.v1"; }
  Task<void> on_open(std::shared_ptr<Connection> conn) override;
  Task<void> on_message(std::shared_ptr<Connection> conn, std::string message) override;
  void on_protocol_error(Connection& conn, int status, const std::string& message) override;
  void on_overload(Connection& conn, const std::string& message) override;

 private:
  const MethodTable& methods_;
  repo::Repository& repo_;
};

}  // namespace vespid::core
