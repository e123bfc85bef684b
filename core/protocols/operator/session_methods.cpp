#include "protocols/operator/session_methods.hpp"

#include "protocols/params.hpp"
#include "services/sessions/session_service.hpp"

namespace vespid::sessions {

using core::CallContext;
using core::CallResult;
using core::Role;
using core::Task;
using nlohmann::json;
namespace params = core::params;

namespace {

const std::set<Role> kUsers = {Role::Operator, Role::LocalAdmin};

Caller caller_of(const CallContext& c, const json& p) {
  return Caller{c.principal, params::required_string(p, "orgId")};
}

CallResult ok(json payload) {
  return {std::move(payload), std::nullopt};
}

}  // namespace

void register_session_methods(core::MethodTable& methods, SessionService& s) {
  SessionService* svc = &s;
  methods.add({"sessions.create", kUsers,
               "Create a session {orgId, title?, engine?, model?, instructions?, toolset?, "
               "selector?{tag?, group?}, limits?}",
               [svc](CallContext c, json p) -> Task<CallResult> {
                 Caller who = caller_of(c, p);
                 Task<json> t = svc->create(std::move(who), p);
                 json session = co_await std::move(t);
                 co_return ok({{"session", session}});
               }});
  methods.add({"sessions.list", kUsers,
               "An org's sessions, newest activity first {orgId, limit?, cursor?, q?, "
               "createdBy?, agentId?}",
               [svc](CallContext c, json p) -> Task<CallResult> {
                 Caller who = caller_of(c, p);
                 int limit = static_cast<int>(params::optional_int(p, "limit", 50));
                 std::string cursor = params::optional_string(p, "cursor");
                 SessionListFilter filter = SessionListFilter::from_params(
                     params::optional_string(p, "q"), params::optional_string(p, "createdBy"),
                     params::optional_string(p, "agentId"), who.who.user_id);
                 Task<json> t =
                     svc->list(std::move(who), limit, std::move(cursor), std::move(filter));
                 json out = co_await std::move(t);
                 co_return ok(std::move(out));
               }});
  methods.add({"sessions.get", kUsers, "One session {orgId, sessionId}",
               [svc](CallContext c, json p) -> Task<CallResult> {
                 Caller who = caller_of(c, p);
                 std::string id = params::required_string(p, "sessionId");
                 Task<json> t = svc->get(std::move(who), std::move(id));
                 json out = co_await std::move(t);
                 co_return ok(std::move(out));
               }});
  methods.add({"sessions.events", kUsers,
               "A session's stored events {orgId, sessionId, afterSeq?, limit?}",
               [svc](CallContext c, json p) -> Task<CallResult> {
                 Caller who = caller_of(c, p);
                 std::string id = params::required_string(p, "sessionId");
                 int64_t after = params::optional_int(p, "afterSeq", 0);
                 int limit = static_cast<int>(params::optional_int(p, "limit", 100));
                 Task<json> t = svc->events(std::move(who), std::move(id),
                                            static_cast<uint64_t>(after < 0 ? 0 : after), limit);
                 json out = co_await std::move(t);
                 co_return ok(std::move(out));
               }});
  methods.add({"sessions.send", kUsers,
               "Send a message {orgId, sessionId, message, idempotencyKey?}",
               [svc](CallContext c, json p) -> Task<CallResult> {
                 Caller who = caller_of(c, p);
                 std::string id = params::required_string(p, "sessionId");
                 Task<json> t = svc->send(std::move(who), std::move(id), p);
                 json out = co_await std::move(t);
                 co_return ok(std::move(out));
               }});
  methods.add({"sessions.cancel", kUsers, "Stop a session's running turn {orgId, sessionId}",
               [svc](CallContext c, json p) -> Task<CallResult> {
                 Caller who = caller_of(c, p);
                 std::string id = params::required_string(p, "sessionId");
                 Task<json> t = svc->cancel(std::move(who), std::move(id), "operator");
                 json out = co_await std::move(t);
                 co_return ok(std::move(out));
               }});
  methods.add({"sessions.reset", kUsers, "Unpin a session's node host {orgId, sessionId}",
               [svc](CallContext c, json p) -> Task<CallResult> {
                 Caller who = caller_of(c, p);
                 std::string id = params::required_string(p, "sessionId");
                 Task<json> t = svc->reset(std::move(who), std::move(id));
                 json out = co_await std::move(t);
                 co_return ok(std::move(out));
               }});
}

}  // namespace vespid::sessions
