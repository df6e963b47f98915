// SPDX-License-Identifier: GPL-3.0-or-later
// The database numbers of the status page and /metrics: mautic::read_status() (processed by
// reason, pending, the sweeps' outcomes) plus per-day and per-source counts from
// {prefix}gdpr_contacts. Read-only, and without the hash key.
#pragma once

#include "app/session.h"
#include "core/result.h"
#include "db/connection.h"
#include "server/metrics.h"

namespace mgdpr::server {

Result<DatabaseNumbers> read_database_numbers(db::Connection& connection, const app::Session& session,
                                              int days);

}  // namespace mgdpr::server
