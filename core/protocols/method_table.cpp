#include "protocols/method_table.hpp"

#include "host/connections/connection.hpp"
#include "runtime/api_error.hpp"

namespace vespid::core {

bool TextReply::open() const {
  return conn_ && !conn_->gone && !conn_->closing();
}

void TextReply::payload(std::initializer_list<std::string_view> parts) {
  if (open()) form_->payload(*conn_, id_json_, parts);
  conn_.reset();
}

void TextReply::error(const api::ApiError& e) {
  if (open()) form_->error(*conn_, id_json_, e);
  conn_.reset();
}

void MethodTable::add(MethodSpec spec) {
  std::string name = spec.name;
  auto [it, added] = methods_.insert_or_assign(std::move(name), std::move(spec));
  (void)added;
  by_name_[it->first] = &it->second;
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
