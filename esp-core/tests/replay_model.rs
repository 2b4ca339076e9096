//! The replay window against a simple model: a set of every sequence
//! number ever accepted and the highest one.

use std::collections::BTreeSet;

use esp_core::DecapError;
use esp_core::replay::ReplayWindow;
use proptest::prelude::*;

/// What RFC 4303 §3.4.3 says should happen to `seq`.
fn model_accepts(seen: &BTreeSet<u64>, size: u64, seq: u64) -> bool {
    let top = seen.last().copied().unwrap_or(0);
    seq != 0 && !seen.contains(&seq) && (seq > top || top - seq < size)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn window_agrees_with_the_model(
        size in prop_oneof![Just(32u32), Just(64), Just(1000), Just(4096)],
        steps in prop::collection::vec((0u64..6000, any::<bool>()), 1..400),
    ) {
        let mut w = ReplayWindow::new(size, false);
        let mut seen = BTreeSet::new();
        let mut base = 0u64;
        for (delta, authentic) in steps {
            // Mostly near the top, sometimes far ahead or far behind.
            let top: u64 = seen.last().copied().unwrap_or(0);
            let seq = if delta < 5000 { (top + 50).saturating_sub(delta % 200) } else { base + delta * 3 };
            base = base.max(seq / 2);
            let want = model_accepts(&seen, u64::from(size), seq);
            let got = w.check(seq);
            prop_assert_eq!(got.is_ok(), want, "seq {} top {} size {}: {:?}", seq, top, size, got);
            if let Err(e) = got {
                prop_assert!(matches!(e, DecapError::ZeroSequence | DecapError::Replayed(_) | DecapError::TooOld(_)));
            }
            // A packet whose ICV fails is checked but never marked.
            if want && authentic {
                w.mark(seq);
                seen.insert(seq);
            }
            prop_assert_eq!(w.highest(), seen.last().copied().unwrap_or(0));
        }
    }

    #[test]
    fn esn_inference_recovers_the_full_number(
        start in 1u64..(u64::MAX >> 1),
        size in prop_oneof![Just(32u32), Just(64), Just(4096)],
        offset in -4095i64..100_000,
    ) {
        let w = ReplayWindow::starting_after(size, true, start);
        let seq = start.checked_add_signed(offset).filter(|s| *s > 0).unwrap_or(1);
        // Appendix A recovers every number inside the window or ahead of it
        // by less than 2^32 - size.
        let inside = seq > start || start - seq < u64::from(size);
        if inside {
            prop_assert_eq!(w.infer(seq as u32).unwrap(), seq);
        }
    }
}
