#include "protocols/method_table.hpp"

#include "runtime/api_error.hpp"

namespace vespid::core {

void MethodTable::add(MethodSpec spec) {
  std::string name = spec.name;
  methods_[name] = std::move(spec);
}

Task<CallResult> MethodTable::call(CallContext ctx, std::string method,
                                   nlohmann::json params) const {
  auto it = methods_.find(method);
  if (it == methods_.end()) {
    throw api::ApiError("METHOD_NOT_FOUND", "unknown method \"" + method + "\"",
                        {{"method", method}});
  }
  const MethodSpec& spec = it->second;
  if (!spec.roles.count(ctx.principal.role)) {
    if (ctx.principal.role == Role::Anonymous) {
      throw api::ApiError("UNAUTHORIZED", "authenticate first: call \"auth\" with an access token",
                          {{"method", method}});
    }
    throw api::forbidden("Method not allowed",
                         {{"method", method}, {"role", role_name(ctx.principal.role)}});
  }
  // The task is a named local rather than a temporary inside co_await (docs/coding-notes.md).
  Task<CallResult> task = spec.handler(std::move(ctx), std::move(params));
  CallResult result = co_await std::move(task);
  co_return result;
}

}  // namespace vespid::core
