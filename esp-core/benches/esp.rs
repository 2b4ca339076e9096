//! Criterion benchmarks of ESP encapsulation and decapsulation.

fn main() {}
