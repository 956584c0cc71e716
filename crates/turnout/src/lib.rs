//! The `turnout` binary's library half: configuration, opening the chosen
//! database, and the demo data. `main.rs` is the command line on top.

pub mod config;
pub mod database;
pub mod demo;
