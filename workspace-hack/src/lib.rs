//! Empty: this crate exists for the features its dependencies are built with (see Cargo.toml).
