// SPDX-License-Identifier: GPL-3.0-or-later
// The database numbers of the status page and /metrics: Engine::status() (processed by reason,
// pending, last sweep) plus per-day and per-source counts from {prefix}gdpr_contacts.
// Read-only.
#pragma once

#include "core/result.h"
#include "db/connection.h"
#include "mautic/engine.h"
#include "mautic/schema.h"
#include "server/metrics.h"

namespace mgdpr::server {

Result<DatabaseNumbers> read_database_numbers(mautic::Engine& engine, db::Connection& connection,
                                              const mautic::Schema& schema, int days);

}  // namespace mgdpr::server
