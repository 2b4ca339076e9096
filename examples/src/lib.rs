//! Shared helpers for the example programs.

pub mod algorithms;
pub mod daemon;
pub mod input;
