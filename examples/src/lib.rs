//! Shared helpers for the example programs.

pub mod daemon;
pub mod input;
