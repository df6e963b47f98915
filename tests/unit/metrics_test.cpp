// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/metrics.h"

#include <gtest/gtest.h>

namespace mgdpr::server {
namespace {

TEST(Metrics, RowsSweepsCouldNotHandleAreCountedByTableAndOutcome) {
  DatabaseNumbers numbers;
  numbers.status.unhandled.rows = 3;
  numbers.status.unhandled.by_table_and_outcome[{"webhook_queue", "left"}] = 2;
  numbers.status.unhandled.by_table_and_outcome[{"audit_log", "cleared"}] = 1;
  const std::string text = prometheus_text(Counters{}, numbers, true);
  EXPECT_NE(text.find("# TYPE mgdpr_unhandled_rows gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("mgdpr_unhandled_rows{table=\"webhook_queue\",outcome=\"left\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("mgdpr_unhandled_rows{table=\"audit_log\",outcome=\"cleared\"} 1\n"),
            std::string::npos);
}

TEST(Metrics, NoUnhandledRowsNoSeries) {
  const std::string text = prometheus_text(Counters{}, DatabaseNumbers{}, true);
  EXPECT_NE(text.find("# TYPE mgdpr_unhandled_rows gauge"), std::string::npos);
  EXPECT_EQ(text.find("mgdpr_unhandled_rows{"), std::string::npos);
}

}  // namespace
}  // namespace mgdpr::server
