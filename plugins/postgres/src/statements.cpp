#include "statements.hpp"

namespace vespid::postgres {

Sql::Sql(const std::string& schema) : schema_(schema), q_("\"" + schema + "\"") {}

std::string Sql::table(const char* name) const {
  return q_ + "." + name;
}

std::vector<std::string> Sql::create_tables() const {
  return {
      // bytea compares with memcmp, shorter first on a tie: exactly the ABI's key order, in
      // the primary key's B-tree, whatever the database's collation. `version` is the
      // revision of the transaction that last wrote the key.
      "CREATE TABLE " + table("kv") +
          " (key bytea PRIMARY KEY, value bytea NOT NULL, version bigint NOT NULL)",
      // Named counters: 'revision' (the last committed revision, whose row lock serialises
      // committers) and 'schema_version'.
      "CREATE TABLE " + table("meta") + " (name text PRIMARY KEY, value bigint NOT NULL)",
      "INSERT INTO " + table("meta") + " (name, value) VALUES ('schema_version', " +
          std::to_string(kSchemaVersion) + "), ('revision', 0)",
      // One row per running plugin instance (`owner`, random per start): the token and the
      // outcomes of its last committed batch, written in that batch's transaction. When the
      // answer to a COMMIT is lost with the connection, this row says whether it happened.
      "CREATE TABLE " + table("commit_log") +
          " (owner bytea PRIMARY KEY, token bigint NOT NULL, outcomes bytea NOT NULL,"
          " written_at timestamptz NOT NULL DEFAULT now())",
  };
}

std::vector<Statement> Sql::session_setup(std::chrono::milliseconds lock_timeout) const {
  const std::string kv = table("kv");
  std::vector<Statement> out;
  out.push_back(
      Statement::sql("SELECT set_config('synchronous_commit', 'on', false) "
                     "WHERE current_setting('synchronous_commit') = 'off'"));
  // Between the two round trips of a commit the session is idle inside a transaction holding
  // the revision lock; if this process dies there, the server ends the session (and frees
  // the lock for the other gateways) after this long instead of never.
  out.push_back(Statement::sql("SET idle_in_transaction_session_timeout = 10000"));
  // Plan each prepared statement once per session. Left to choose, the server kept planning
  // the commit statement afresh at every execution (its custom plans know the arrays' lengths,
  // so they always looked cheaper than the generic one), which was most of a commit's server
  // CPU: 1.57x the dispatches at 16 in flight with generic plans (docs/performance.md). Every
  // statement here is a primary-key lookup or range walk.
  out.push_back(Statement::sql("SET plan_cache_mode = force_generic_plan"));
  // A generic plan is made at a statement's first execution, from the statistics of that
  // moment: on a new store, an empty table that was never analyzed. Left free, the server then
  // hashed the whole table for every commit's compares (a hash join over a sequential scan of
  // kv), a plan kept for the whole session while the table grew: at 16 in flight a dispatch
  // cost 1.9 ms of server CPU and went at 0.04x SQLite's rate. Every statement here has a
  // primary-key path, so the session takes it whatever the statistics say
  // (tests/storage/postgres/plans_test.cpp counts the table's sequential scans).
  out.push_back(Statement::sql("SET enable_seqscan = off"));
  out.push_back(Statement::sql("SET enable_hashjoin = off"));
  out.push_back(Statement::sql("SET enable_mergejoin = off"));
  out.push_back(Statement::sql("SET lock_timeout = " + std::to_string(lock_timeout.count())));

  out.push_back(
      Statement::prepare(kGet, "SELECT value, version FROM " + kv + " WHERE key = $1::bytea"));
  // LIMIT NULL is no limit, so one statement per shape serves every limit.
  out.push_back(Statement::prepare(kScanFwdAll, "SELECT key, value, version FROM " + kv +
                                                    " WHERE key >= $1::bytea"
                                                    " ORDER BY key LIMIT $2::int8"));
  out.push_back(Statement::prepare(kScanFwdRange, "SELECT key, value, version FROM " + kv +
                                                      " WHERE key >= $1::bytea AND key < $2::bytea"
                                                      " ORDER BY key LIMIT $3::int8"));
  out.push_back(Statement::prepare(kScanRevAll, "SELECT key, value, version FROM " + kv +
                                                    " WHERE key >= $1::bytea"
                                                    " ORDER BY key DESC LIMIT $2::int8"));
  out.push_back(Statement::prepare(kScanRevRange, "SELECT key, value, version FROM " + kv +
                                                      " WHERE key >= $1::bytea AND key < $2::bytea"
                                                      " ORDER BY key DESC LIMIT $3::int8"));
  // Taken first in every commit: committers (this gateway's and every other's) queue here,
  // and each statement after it sees everything the previous committer wrote.
  out.push_back(Statement::prepare(
      kLock, "SELECT value FROM " + table("meta") + " WHERE name = 'revision' FOR UPDATE"));
  // One transaction of a batch in one statement. `cmp` finds the first compare that does not
  // hold (1-based; NULL when all hold); only then does `rev` take the next revision, and
  // `del` and `put` apply the transaction's net writes (the plugin folds repeated writes of a
  // key into its last one, so the two sets never share a key). Data-modifying CTEs all see
  // the statement's starting snapshot, which is what the compares must see; the next
  // transaction's statement sees these writes.
  out.push_back(Statement::prepare(
      kTxn,
      "WITH cmp AS ("
      "  SELECT min(c.i) AS failed"
      "  FROM unnest($1::int4[], $2::bytea[], $3::int8[]) WITH ORDINALITY AS c(op, key, ver, i)"
      "  LEFT JOIN " +
          kv +
          " AS kv ON kv.key = c.key"
          "  WHERE NOT CASE c.op WHEN 1 THEN kv.key IS NULL"
          "                      WHEN 2 THEN kv.key IS NOT NULL"
          "                      ELSE kv.key IS NOT NULL AND kv.version = c.ver END"
          "), rev AS ("
          "  UPDATE " +
          table("meta") +
          " SET value = value + 1"
          "  WHERE name = 'revision' AND (SELECT failed FROM cmp) IS NULL"
          "  RETURNING value"
          "), del AS ("
          "  DELETE FROM " +
          kv +
          " WHERE key = ANY ($4::bytea[]) AND EXISTS (SELECT FROM rev)"
          "), put AS ("
          "  INSERT INTO " +
          kv +
          " (key, value, version)"
          "  SELECT w.key, w.value, rev.value FROM unnest($5::bytea[], $6::bytea[]) AS w(key, "
          "value), rev"
          "  ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version"
          ")"
          " SELECT (SELECT failed FROM cmp) - 1, (SELECT value FROM rev)"));
  out.push_back(Statement::prepare(
      kLog,
      "INSERT INTO " + table("commit_log") +
          " (owner, token, outcomes, written_at) VALUES ($1::bytea, $2::int8, $3::bytea, now())"
          " ON CONFLICT (owner) DO UPDATE SET token = excluded.token,"
          " outcomes = excluded.outcomes, written_at = excluded.written_at"));
  out.push_back(Statement::prepare(kCheck, "SELECT outcomes FROM " + table("commit_log") +
                                               " WHERE owner = $1::bytea AND token = $2::int8"));
  // Whether the batch committed without a sync ($2), or a later batch of this instance, is
  // still there: the row holds the last batch's token, and a later batch lies after it in the
  // WAL, so either proves that the server did not lose it.
  out.push_back(
      Statement::prepare(kSurvived, "SELECT token FROM " + table("commit_log") +
                                        " WHERE owner = $1::bytea AND token >= $2::int8"));
  // ABI 1.4's sync, run on its own (an implicit transaction at synchronous_commit on). It
  // rewrites this instance's commit-log row, so that it writes WAL and its commit waits for
  // the flush of everything before it (a transaction that writes nothing waits for nothing),
  // and it finds the row only if the last batch committed without a sync (or a later one) is
  // still there: a server that crashed before flushing it has lost it, and every batch after.
  out.push_back(Statement::prepare(kSync, "UPDATE " + table("commit_log") +
                                              " SET written_at = now()"
                                              " WHERE owner = $1::bytea AND token >= $2::int8"));
  // After such a loss: the revision counter moves back past the revisions the lost batches
  // had taken, so that no revision is handed out twice.
  out.push_back(Statement::prepare(kSkipLost, "UPDATE " + table("meta") +
                                                  " SET value = greatest(value, $1::int8)"
                                                  " WHERE name = 'revision'"));
  return out;
}

}  // namespace vespid::postgres
