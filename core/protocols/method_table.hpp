// Every operator method lives in one table, with the roles allowed to call it. The other
// dialects (REST, bridge) map onto the same table, so one method means one implementation and
// one permission check.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "json_scan.hpp"
#include "runtime/api_error.hpp"
#include "runtime/task.hpp"
#include "services/identity/principal.hpp"

namespace vespid::core {

class Connection;

struct CallContext {
  std::shared_ptr<Connection> conn;  // may be null for calls that come from no connection
  Principal principal;               // a copy: methods that change it say so in their result
};

struct CallResult {
  nlohmann::json payload;
  std::optional<Principal> new_principal;  // set by `auth`
  // When not empty, sent instead of `payload`: one JSON value as text, already checked to be
  // one (json_text::is_spliceable_value). Lets a node's answer pass through without a DOM.
  std::string payload_json;
};

using MethodHandler = std::function<Task<CallResult>(CallContext, nlohmann::json)>;

// Where a call taken by a TextHandler sends its one answer, in the form of the dialect whose
// frame started it (OperatorDialect: a "res" frame with the request's id). Move-only, answered
// once; a connection gone by then is sent nothing. Plain data with the dialect's writers as
// function pointers, so that a handler keeping it while it waits needs no allocation for it.
class TextReply {
 public:
  struct Form {
    // A success whose payload is `parts` written one after another: one JSON value, checked.
    void (*payload)(Connection& conn, std::string_view id_json,
                    std::initializer_list<std::string_view> parts);
    void (*error)(Connection& conn, std::string_view id_json, const api::ApiError& e);
  };

  TextReply(std::shared_ptr<Connection> conn, std::string id_json, const Form& form)
      : conn_(std::move(conn)), id_json_(std::move(id_json)), form_(&form) {}
  TextReply(TextReply&&) noexcept = default;
  TextReply& operator=(TextReply&&) noexcept = default;

  void payload(std::initializer_list<std::string_view> parts);
  void error(const api::ApiError& e);

 private:
  bool open() const;

  std::shared_ptr<Connection> conn_;
  std::string id_json_;
  const Form* form_;
};

// A hot method's second entry: its params as the request's members (one object, already checked
// by json_scan, spans of the frame's text), read typed, without a DOM, for the caller `who` (the
// connection's principal). It takes the call by moving `reply` out and answering through it, now
// or when its result comes, and returns true; or it returns false, `reply` untouched, for
// anything it does not read that way, and the call goes to the MethodHandler with the parsed
// params, which owns every error. The text lives only during the call: the handler keeps its
// own copy of what it needs.
using TextHandler =
    std::function<bool(const Principal& who, const json_scan::Object& params, TextReply& reply)>;

struct MethodSpec {
  std::string name;
  std::set<Role> roles;
  std::string summary;
  MethodHandler handler;
  // A concurrent method (one that waits on something outside the gateway, like a node's answer)
  // is started in frame order, but the connection's next frame does not wait for its answer;
  // the answer goes out when it is ready, matched by id.
  bool concurrent = false;
  // Optional, and used only for a concurrent method: such a request is started at once from the
  // transport's bytes (Dialect::on_message_now); any other goes to `handler`.
  TextHandler text_handler;
};

class MethodTable {
 public:
  MethodTable() = default;
  // by_name_ points into methods_: a copy would point into the original.
  MethodTable(const MethodTable&) = delete;
  MethodTable& operator=(const MethodTable&) = delete;
  void add(MethodSpec spec);
  // Throws api::ApiError: METHOD_NOT_FOUND, UNAUTHORIZED (anonymous), FORBIDDEN (role).
  Task<CallResult> call(CallContext ctx, std::string method, nlohmann::json params) const;
  const std::map<std::string, MethodSpec, std::less<>>& methods() const noexcept {
    return methods_;
  }
  // The method's spec, or nullptr. One hash, not a walk down the sorted map with a string
  // compare per level: every operator frame asks.
  const MethodSpec* find(std::string_view method) const {
    auto it = by_name_.find(method);
    return it == by_name_.end() ? nullptr : it->second;
  }
  bool concurrent(std::string_view method) const {
    const MethodSpec* spec = find(method);
    return spec != nullptr && spec->concurrent;
  }

 private:
  std::map<std::string, MethodSpec, std::less<>> methods_;  // sorted, for listings
  // The same specs by name; the views are the map's keys, which never move.
  std::unordered_map<std::string_view, const MethodSpec*> by_name_;
};

}  // namespace vespid::core
