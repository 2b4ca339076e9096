//! Fuzz bodies, shared by `fuzz/fuzz_targets/` and the corpus-replay test,
//! so both exercise the same code on stable.

use crate::client::Client;
use crate::wire::Message;

/// Parse → emit → parse must agree, and the second emit must equal the
/// first (emission is canonical). Any panic or disagreement is a bug.
pub fn message_round_trip(data: &[u8]) {
    let Ok(first) = Message::parse(data) else {
        return;
    };
    let Ok(bytes) = first.to_bytes() else {
        // Only possible if the parsed form grew past 64K units, which
        // parsing a bounded input cannot produce.
        panic!("a parsed message failed to emit");
    };
    let again = match Message::parse(&bytes) {
        Ok(m) => m,
        Err(e) => panic!("re-parse of emitted bytes failed: {e}"),
    };
    assert_eq!(first, again, "parse(emit(parse(x))) != parse(x)");
    let bytes_again = again.to_bytes().ok();
    assert_eq!(Some(&bytes), bytes_again.as_ref(), "emit is not canonical");

    // The client must swallow anything without panicking.
    let mut client = Client::new(1);
    client.handle_message(data);
    while client.poll_event().is_some() {}
}
