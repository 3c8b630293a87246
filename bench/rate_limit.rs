//! What the per-token write limit costs a write: one check of the keyed
//! token bucket, with one token writing and with 10,000 tokens in the map.
//! (A write itself takes milliseconds in the database; see bench/quick-load
//! with WRITE_RATE set for the same comparison end to end.)
//!
//!     cargo bench --bench rate_limit

use std::hint::black_box;

use claimtrail::http::rate_limit::WriteLimiter;
use criterion::{Criterion, criterion_group, criterion_main};

fn limiter(c: &mut Criterion) {
    // High enough never to refuse: the cost measured is the check itself.
    let on = WriteLimiter::new(1_000_000_000, 1_000_000_000);
    let off = WriteLimiter::new(0, 0);
    let mut group = c.benchmark_group("write_limit_check");
    group.bench_function("off", |b| b.iter(|| off.check(black_box(7)).is_ok()));
    group.bench_function("one token", |b| b.iter(|| on.check(black_box(7)).is_ok()));
    for token in 0..10_000 {
        let _ = on.check(token);
    }
    let mut token = 0i64;
    group.bench_function("10,000 tokens", |b| {
        b.iter(|| {
            token = (token + 7_919) % 10_000;
            on.check(black_box(token)).is_ok()
        })
    });
    group.finish();
}

criterion_group!(benches, limiter);
criterion_main!(benches);
