//! prescale's integration tests: one binary, a module per area.
//!
//! `aws` talks to a real AWS-compatible server (moto, started by `tests/run.sh`); `notebooks` runs
//! the notebooks with the Jupyter `tests/run.sh` installs; the others run the `prescale` binary and
//! the library crates on real files.

#![allow(clippy::unwrap_used)] // a panic in a test is a failure with a line number

mod aws;
mod cli;
mod common;
mod data;
mod events;
mod forecast;
mod notebooks;
mod safety;
mod simulate;
mod snapshot;
