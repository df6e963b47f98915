// SPDX-License-Identifier: GPL-3.0-or-later
// `mautic-gdpr serve`: one process with
//   POST /mautic/webhook   Mautic's webhook: signed events, processed by the sweep's engine
//   GET|POST /lookup       the lookup page for support staff (login required)
//   GET /status            counts, a chart, last sweep and webhook, errors (login required)
//   GET|POST /login, POST /logout, GET /static/style.css
//   GET /metrics           Prometheus text format (no login; keep it internal)
//   GET /healthz           200 when the database answers, else 503 (no login)
// Each request leases its own database connection and builds its own Engine over it; the
// config, schema, policy and key are shared read-only. SIGTERM or SIGINT stop it gracefully:
// no new connections, requests in flight finish, then the process exits 0. SIGHUP reads the
// config file again: new users and policy apply to the next requests, none is dropped.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace mgdpr::server {

// Runs until SIGTERM or SIGINT (SIGHUP reloads). Returns an error when it cannot start (its kind picks the exit
// code: config 2, database 3, key mismatch 4).
Status serve(Config config);

// What `check` proves about [server] before `serve` runs: the webhook secret can be read (and
// others cannot read it), the TLS certificate and key load, match and have not expired, and
// someone can log in. One error per problem.
std::vector<Error> check_server_config(const Config& config);

}  // namespace mgdpr::server
