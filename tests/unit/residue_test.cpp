// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/residue.h"

#include <gtest/gtest.h>

namespace mgdpr::mautic {
namespace {

std::string all_of(const std::vector<ResidueFinding>& findings) {
  std::string text;
  for (const auto& finding : findings) text += finding.where + ": " + finding.what + "\n";
  return text;
}

TEST(Residue, AQuietServerStillHearsAboutBackups) {
  const auto findings =
      residue_findings({.variables = {{"log_bin", "OFF"}, {"general_log", "OFF"}}});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].where, "backups");
}

TEST(Residue, LogsAndTheMessengerQueueSayWhatToDo) {
  const auto findings =
      residue_findings({.variables = {{"log_bin", "ON"},
                                      {"binlog_format", "ROW"},
                                      {"expire_logs_days", "0"},
                                      {"general_log", "ON"},
                                      {"general_log_file", "/var/lib/mysql/host.log"},
                                      {"log_output", "FILE,TABLE"},
                                      {"slow_query_log", "ON"},
                                      {"slow_query_log_file", "/var/lib/mysql/host-slow.log"}},
                        .messenger_rows = 12,
                        .messenger_failed_rows = 3});
  const std::string text = all_of(findings);
  EXPECT_NE(text.find("binary log: on, format ROW, kept for never (expire_logs_days = 0)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("row images"), std::string::npos);
  EXPECT_NE(text.find("general query log: on: every statement, with its values, goes to the file "
                      "/var/lib/mysql/host.log and mysql.general_log"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("slow query log: on"), std::string::npos);
  EXPECT_NE(text.find("12 queued message(s), 3 in the failed queue"), std::string::npos);
  EXPECT_EQ(findings.back().where, "backups");
}

TEST(Residue, BinaryLogExpiryInSeconds) {
  const auto text =
      all_of(residue_findings({.variables = {{"log_bin", "ON"},
                                             {"binlog_format", "STATEMENT"},
                                             {"binlog_expire_logs_seconds", "604800"}}}));
  EXPECT_NE(text.find("kept for 7 days (binlog_expire_logs_seconds = 604800)"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("row images"), std::string::npos);
}

}  // namespace
}  // namespace mgdpr::mautic
