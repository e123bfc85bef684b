// How a revoked credential leaves the connections that hold it. A connection authenticates once
// (at its handshake or with `auth`) and keeps its principal; without this, a revoked access token
// would keep working on every socket already open. The method that revokes (a dialect) tells
// this interface; the gateway, which owns the connections, closes each one that holds the token.
#pragma once

#include <string>

namespace vespid::core {

class CredentialEvents {
 public:
  virtual ~CredentialEvents() = default;
  // Thread: the Sequencer. The access token `token_id` was revoked. Returns how many open
  // connections held it and were closed.
  virtual int access_token_revoked(const std::string& token_id) = 0;
  // Thread: the Sequencer. `user_id` is no longer a member of `org_id`: connections that act
  // in that org for that user are closed (those not bound to one org re-check membership on
  // every org-scoped call). Returns how many were closed.
  virtual int membership_removed(const std::string& org_id, const std::string& user_id) = 0;
  // Thread: the Sequencer. What `user_id` may see changed (a membership added or changed, the
  // gateway administrator flag set or cleared): connections that cache it for their event
  // audience (operator.v1) read it again, on every instance.
  virtual void user_rights_changed(const std::string& user_id) { (void)user_id; }
};

}  // namespace vespid::core
