//! pubmine over HTTP.
//!
//! - [`api`]: the JSON API over the entity index and Postgres (`/search`, `/documents/{id}`,
//!   `/entities/top`, ...) and the search page, built into the crate (`page/`).
//! - [`telemetry`]: metrics and health for every long-running command: the Prometheus recorder,
//!   given the metrics each crate declares, and `/metrics`, `/healthz`, `/readyz`.
//! - [`http`]: serving a router with limits on slow and idle clients, for both.
//!
//! The handlers translate HTTP into calls to `pubmine_index::search` and `pubmine_store`; no
//! search or SQL lives here. The crate depends on `stream`, `store` and `index`, never on the
//! stages that produce what it serves.

pub mod api;
pub mod http;
pub mod telemetry;
