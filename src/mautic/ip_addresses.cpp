// SPDX-License-Identifier: GPL-3.0-or-later
// ip_addresses rows are shared between contacts: a processed contact's rows stop pointing at
// them, and an IP goes only when no row of any table references it any more.
#include "mautic/location_walk.h"
#include "mautic/own_tables.h"
#include "mautic/related_scrubber.h"

namespace mgdpr::mautic {

using db::Param;

namespace {

constexpr std::string_view kPlaceholderIp = "0.0.0.0";
// IP ids per transaction when unreferenced addresses are looked for.
constexpr int64_t kIpWindow = 20000;

}  // namespace

// Unlinks given IPs from every row of every processed contact (deleting rows of locations
// whose action is delete).
class RelatedScrubber::IpUnlinker : public LocationVisitor {
 public:
  IpUnlinker(RelatedScrubber& scrubber, const std::vector<Param>& ips, TableCounts& changed)
      : scrubber_(scrubber), ips_(ips), changed_(changed) {}

  Status linked(const LocationPlan& plan, const std::string& table) override {
    const Schema& schema = scrubber_.schema_;
    const ColumnInfo* ip = schema.column(table, "ip_id");
    if (ip == nullptr) return {};
    const RowSelection rows = rows_of(*plan.location, table, schema, ContactSet::processed(schema));
    std::vector<Param> params;
    std::string statement;
    if (plan.action == RowAction::kDelete) {
      statement = fmt::format("DELETE t FROM {} WHERE {} AND t.ip_id IN ({})", rows.from,
                              rows.where, db::placeholders(ips_.size()));
    } else {
      Param replacement = nullptr;
      if (!ip->nullable) {
        MGDPR_ASSIGN_OR_RETURN(replacement, scrubber_.placeholder_ip());
      }
      params.push_back(replacement);
      statement = fmt::format("UPDATE {} SET t.ip_id = ? WHERE {} AND t.ip_id IN ({})", rows.from,
                              rows.where, db::placeholders(ips_.size()));
    }
    params.insert(params.end(), rows.params.begin(), rows.params.end());
    params.insert(params.end(), ips_.begin(), ips_.end());
    MGDPR_ASSIGN_OR_RETURN(auto unlinked, scrubber_.connection_.execute(statement, params));
    changed_[table] += unlinked;
    return {};
  }
  // Payloads and free text have no ip_id column.
  Status in_payload(const LocationPlan&, const std::string&) override { return {}; }
  Status in_text(const LocationPlan&, const std::string&) override { return {}; }

 private:
  RelatedScrubber& scrubber_;
  const std::vector<Param>& ips_;
  TableCounts& changed_;
};

Result<int64_t> RelatedScrubber::placeholder_ip() {
  if (placeholder_ip_) return *placeholder_ip_;
  MGDPR_ASSIGN_OR_RETURN(auto recorded, read_meta(connection_, schema_, "placeholder_ip_id"));
  if (recorded.has_value()) {
    MGDPR_ASSIGN_OR_RETURN(auto exists,
                           connection_.query_value(fmt::format("SELECT id FROM {} WHERE id = ?",
                                                               schema_.table("ip_addresses")),
                                                   {db::cell_to_int(recorded).value_or(0)}));
    if (exists.has_value()) return *(placeholder_ip_ = db::cell_to_int(exists));
  }
  MGDPR_TRY(
      connection_.execute(fmt::format("INSERT INTO {} (ip_address, ip_details) VALUES (?, NULL)",
                                      schema_.table("ip_addresses")),
                          {std::string(kPlaceholderIp)}));
  MGDPR_ASSIGN_OR_RETURN(auto id, connection_.query_value("SELECT LAST_INSERT_ID()"));
  placeholder_ip_ = db::cell_to_int(id);
  MGDPR_TRY(write_meta(connection_, schema_, "placeholder_ip_id", *id));
  return *placeholder_ip_;
}

Status RelatedScrubber::drop_orphan_ips(TableCounts& changed, bool unlink_processed) {
  if (placeholder_ip_) touched_ips_.erase(*placeholder_ip_);
  if (touched_ips_.empty() || !schema_.has_table("ip_addresses")) return {};
  std::vector<Param> candidates;
  for (int64_t id : touched_ips_) candidates.emplace_back(id);
  touched_ips_.clear();
  if (unlink_processed) {
    // A repaired row's IP may be linked by other rows of processed contacts too: unlinked
    // from all of them, so it can go now.
    IpUnlinker unlinker(*this, candidates, changed);
    MGDPR_TRY(walk_locations(plan_, unlinker));
  }
  // Still used by anyone (another contact, or a row this policy keeps): the IP stays.
  MGDPR_ASSIGN_OR_RETURN(
      auto deleted,
      connection_.execute(fmt::format("DELETE i FROM {} i WHERE i.id IN ({}) AND {}",
                                      schema_.table("ip_addresses"),
                                      db::placeholders(candidates.size()), unreferenced_ip_sql(schema_)),
                          candidates));
  changed["ip_addresses"] += deleted;
  return {};
}

Status RelatedScrubber::defer_orphan_ips() {
  if (placeholder_ip_) touched_ips_.erase(*placeholder_ip_);
  if (touched_ips_.empty()) return {};
  if (!schema_.has_table("gdpr_ip_candidates")) {
    return make_error("the gdpr tables are missing; the engine must be opened for writing");
  }
  std::vector<Param> candidates(touched_ips_.begin(), touched_ips_.end());
  touched_ips_.clear();
  std::vector<std::string> tuples(candidates.size(), "(?)");
  MGDPR_TRY(
      connection_.execute(fmt::format("INSERT IGNORE INTO {} (id) VALUES {}",
                                      schema_.table("gdpr_ip_candidates"), db::join(tuples, ", ")),
                          candidates));
  return {};
}

Status RelatedScrubber::drop_ip_candidates(TableCounts& changed, int64_t& retries) {
  if (!schema_.has_table("gdpr_ip_candidates") || !schema_.has_table("ip_addresses")) return {};
  MGDPR_ASSIGN_OR_RETURN(auto placeholder, read_meta(connection_, schema_, "placeholder_ip_id"));
  const int64_t keep = db::cell_to_int(placeholder).value_or(0);
  int64_t after = -1;
  while (true) {
    // The next range of candidates, read without locks; its delete locks what it touches.
    MGDPR_ASSIGN_OR_RETURN(
        auto last,
        connection_.query_value(
            fmt::format("SELECT MAX(id) FROM (SELECT id FROM {} WHERE id > ? ORDER BY id "
                        "LIMIT ?) c",
                        schema_.table("gdpr_ip_candidates")),
            {after, kIpWindow}));
    if (!last) return {};
    const int64_t upto = db::cell_to_int(last).value_or(0);
    auto drop_range = [&](TableCounts& counts) -> Status {
      MGDPR_ASSIGN_OR_RETURN(
          auto deleted,
          connection_.execute(
              fmt::format(
                  "DELETE i FROM {} i JOIN {} c ON c.id = i.id WHERE c.id > ? AND c.id <= ? "
                  "AND i.id <> ? AND {}",
                  schema_.table("ip_addresses"), schema_.table("gdpr_ip_candidates"),
                  unreferenced_ip_sql(schema_)),
              {after, upto, keep}));
      counts["ip_addresses"] += deleted;
      // Still referenced (another contact's rows, a row the policy keeps): the IP stays, and is
      // no candidate any more.
      MGDPR_TRY(connection_.execute(fmt::format("DELETE FROM {} WHERE id > ? AND id <= ?",
                                                schema_.table("gdpr_ip_candidates")),
                                    {after, upto}));
      return {};
    };
    MGDPR_TRY(in_own_transaction(drop_range, changed, retries));
    after = upto;
  }
}

std::string unreferenced_ip_sql(const Schema& schema) {
  // One NOT EXISTS per table with an ip_id column; every such column Mautic has is a foreign
  // key, so each is an index probe.
  std::vector<std::string> unused = {"TRUE"};
  for (const auto& table : schema.tables()) {
    if (schema.column(table, "ip_id") == nullptr) continue;
    unused.push_back(
        fmt::format("NOT EXISTS (SELECT 1 FROM {} u WHERE u.ip_id = i.id)", schema.table(table)));
  }
  return db::join(unused, " AND ");
}

Status RelatedScrubber::drop_unreferenced_ips(TableCounts& changed, bool full_pass) {
  if (!schema_.has_table("ip_addresses")) return {};
  // Only addresses that existed at the previous sweep: one a Mautic request inserted a moment
  // ago may be linked by that request's next statement.
  MGDPR_ASSIGN_OR_RETURN(auto old_top, read_meta(connection_, schema_, "ip_sweep_top"));
  MGDPR_ASSIGN_OR_RETURN(auto checked, read_meta(connection_, schema_, "ip_checked_up_to"));
  MGDPR_ASSIGN_OR_RETURN(auto top, connection_.query_value(fmt::format(
                                       "SELECT COALESCE(MAX(id), 0) FROM {}",
                                       schema_.table("ip_addresses"))));
  const int64_t upper = db::cell_to_int(old_top).value_or(0);
  int64_t lower = full_pass ? 0 : db::cell_to_int(checked).value_or(0);
  MGDPR_ASSIGN_OR_RETURN(auto placeholder, read_meta(connection_, schema_, "placeholder_ip_id"));
  while (lower < upper) {
    const int64_t end = std::min(lower + kIpWindow, upper);
    MGDPR_ASSIGN_OR_RETURN(
        auto deleted,
        connection_.execute(fmt::format("DELETE i FROM {} i WHERE i.id > ? AND i.id <= ? AND "
                                        "i.id <> ? AND {}",
                                        schema_.table("ip_addresses"), unreferenced_ip_sql(schema_)),
                            {lower, end, db::cell_to_int(placeholder).value_or(0)}));
    changed["ip_addresses"] += deleted;
    lower = end;
  }
  MGDPR_TRY(write_meta(connection_, schema_, "ip_checked_up_to", std::to_string(upper)));
  return write_meta(connection_, schema_, "ip_sweep_top", top.value_or("0"));
}

}  // namespace mgdpr::mautic
