#include "schema.hpp"

#include <map>

namespace vespid::postgres {
namespace {

Params text_params(std::initializer_list<std::string> texts) {
  Params p;
  // A text value's binary form is its bytes.
  for (const auto& t : texts) p.bytes(t);
  return p;
}

std::string where(const Sql& sql, const Target& target) {
  return "schema \"" + sql.schema() + "\" on " + target.label +
         (target.who.empty() ? "" : " (" + target.who + ")");
}

// Throws for the first failed statement of a completed request, after rolling back.
void throw_on_error(Pool& pool, Pool::Lease& lease, Request& req, const Sql& sql,
                    const Target& target, Clock::time_point deadline, const std::string& doing) {
  const int bad = req.first_error();
  if (bad < 0) return;
  const PGresult* r = req.results[static_cast<size_t>(bad)].get();
  const int status = status_for_sqlstate(sqlstate(r));
  std::string msg = "postgres: " + doing + " in " + where(sql, target) + " failed: " + describe(r);
  Request rollback;
  rollback.statements.push_back(Statement::sql("ROLLBACK"));
  pool.run(lease, rollback, deadline);
  throw vsp::Error(status, msg);
}

}  // namespace

void run_or_throw(Pool& pool, Pool::Lease& lease, Request& req, const Target& target,
                  Clock::time_point deadline, const std::string& doing) {
  pool.run(lease, req, deadline);
  if (req.failure != Failure::none) {
    throw vsp::Error(req.failure == Failure::closed ? VSP_E_CLOSED : VSP_E_IO,
                     "postgres: " + doing + " on " + target.label + ": " + req.message);
  }
}

SchemaState ensure_schema(Pool& pool, Pool::Lease& lease, const Sql& sql, const Target& target,
                          Clock::time_point deadline) {
  const std::string lock_key = "vespid-postgres " + sql.schema();
  Request look;
  look.statements.push_back(Statement::sql("BEGIN"));
  // Transaction-scoped: released by COMMIT or ROLLBACK, also when the connection dies.
  look.statements.push_back(
      Statement::sql("SELECT pg_advisory_xact_lock(hashtext($1::text))", text_params({lock_key})));
  look.statements.push_back(Statement::sql(
      "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1::text),"
      " to_regclass($2::text) IS NOT NULL,"
      " (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      "  WHERE n.nspname = $1::text)",
      text_params({sql.schema(), sql.table("meta")})));
  run_or_throw(pool, lease, look, target, deadline, "checking the schema");
  throw_on_error(pool, lease, look, sql, target, deadline, "checking the schema");
  const PGresult* facts = look.results[2].get();
  const bool schema_exists = field(facts, 0, 0) == std::string_view("\x01", 1);
  const bool meta_exists = field(facts, 0, 1) == std::string_view("\x01", 1);
  const int64_t relations = int_field(facts, 0, 2);

  SchemaState out;
  Request next;
  if (meta_exists) {
    Request read;
    read.statements.push_back(Statement::sql("SELECT name, value FROM " + sql.table("meta") +
                                             " WHERE name IN ('schema_version', 'revision')"));
    run_or_throw(pool, lease, read, target, deadline, "reading the schema version");
    throw_on_error(pool, lease, read, sql, target, deadline, "reading the schema version");
    std::map<std::string, int64_t> meta;
    const PGresult* r = read.results[0].get();
    for (int row = 0; row < PQntuples(r); ++row) {
      meta[std::string(field(r, row, 0))] = int_field(r, row, 1);
    }
    auto fail = [&](int status, const std::string& msg) {
      Request rollback;
      rollback.statements.push_back(Statement::sql("ROLLBACK"));
      pool.run(lease, rollback, deadline);
      throw vsp::Error(status, "postgres: " + where(sql, target) + " " + msg);
    };
    if (meta.count("schema_version") == 0 || meta.count("revision") == 0) {
      fail(VSP_E_IO,
           "has a meta table without the schema_version and revision rows; it is damaged");
    }
    const int64_t version = meta["schema_version"];
    if (version > kSchemaVersion) {
      fail(VSP_E_UNSUPPORTED,
           "has schema version " + std::to_string(version) +
               ", but this vespid-postgres understands only up to version " +
               std::to_string(kSchemaVersion) +
               "; a newer gateway wrote it: run that version, or give this one another \"schema\"");
    }
    if (version < 1 || meta["revision"] < 0) {
      fail(VSP_E_IO, "holds schema version " + std::to_string(version) + " and revision " +
                         std::to_string(meta["revision"]) + "; it is damaged");
    }
    out.revision = static_cast<uint64_t>(meta["revision"]);
    // Outcomes of batches committed by instances long gone: nobody will ask for them again.
    next.statements.push_back(Statement::sql("DELETE FROM " + sql.table("commit_log") +
                                             " WHERE written_at < now() - interval '7 days'"));
  } else {
    if (relations > 0) {
      Request rollback;
      rollback.statements.push_back(Statement::sql("ROLLBACK"));
      pool.run(lease, rollback, deadline);
      throw vsp::Error(VSP_E_INVALID,
                       "postgres: " + where(sql, target) + " holds " + std::to_string(relations) +
                           " relation(s) but no vespid-postgres meta table; it belongs to "
                           "something else and is left untouched: choose another \"schema\"");
    }
    if (!schema_exists) {
      next.statements.push_back(Statement::sql("CREATE SCHEMA \"" + sql.schema() + "\""));
    }
    for (auto& ddl : sql.create_tables()) next.statements.push_back(Statement::sql(ddl));
    out.created = true;
  }
  next.statements.push_back(Statement::sql("COMMIT"));
  run_or_throw(pool, lease, next, target, deadline,
               out.created ? "creating the schema" : "opening the schema");
  throw_on_error(pool, lease, next, sql, target, deadline,
                 out.created ? "creating the tables" : "opening the schema");
  return out;
}

}  // namespace vespid::postgres
