//! # kpi-pricing
//!
//! Service proposal pricing and retention/storage cost: pure functions over a price book, fed
//! by the catalog's value chains and required object models.
//!
//! This crate is the workspace's place for that capability (see `../shared/DESIGN.md`); its
//! content arrives with the pricing issue. It has no public items yet.
