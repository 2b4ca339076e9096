//! The round-trip check shared by the `isakmp_message` fuzz target and the
//! corpus-replay test (`tests/fuzz_corpus_isakmp.rs`).  Not a stable API.

use super::message::{Message, MessageBody, parse_plaintext};
use super::payload::Payload;

/// Parses `data` as a message; if that succeeds, emits it, parses the
/// emission and checks that both parses agree and that the emission is
/// stable.  Every payload that decodes to a typed body is re-emitted from
/// that body and decoded again, which must give the same body.  An encrypted
/// body is also tried as a plaintext chain (as if decryption were the
/// identity), to reach the padding path.
///
/// # Panics
/// When a round trip disagrees: that is the bug the fuzzer looks for.
pub fn roundtrip(data: &[u8]) {
    // Accept the port-4500 form too, as the CLI does.
    let data = data.strip_prefix(&[0u8; 4][..]).unwrap_or(data);
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    let emitted = msg.to_bytes().expect("a parsed message must emit");
    let again = Message::parse(&emitted).expect("an emitted message must parse");
    assert_eq!(msg, again, "parse(emit(parse(data))) != parse(data)");
    assert_eq!(
        again.to_bytes().expect("emit"),
        emitted,
        "emission is not stable"
    );
    match &msg.body {
        MessageBody::Plain(payloads) => payloads.iter().for_each(typed_roundtrip),
        MessageBody::Encrypted {
            first_payload,
            ciphertext,
        } => {
            if let Ok(pt) = parse_plaintext(*first_payload, ciphertext) {
                pt.payloads.iter().for_each(typed_roundtrip);
                let mut chain = Vec::new();
                super::payload::emit_chain(&pt.payloads, &mut chain).expect("emit chain");
                let back = parse_plaintext(*first_payload, &chain).expect("re-parse chain");
                assert_eq!(back.payloads, pt.payloads, "plaintext chain round trip");
                assert!(back.padding.is_empty());
            }
        }
    }
}

fn typed_roundtrip(payload: &Payload) {
    let Ok(typed) = payload.decode() else {
        return;
    };
    let Some(body) = typed.to_body() else {
        return;
    };
    let body = body.expect("a decoded body must emit");
    let again = Payload::new(payload.ty, body.clone())
        .decode()
        .expect("an emitted body must decode");
    assert_eq!(typed, again, "typed payload round trip");
    assert_eq!(
        again.to_body().expect("typed").expect("emit"),
        body,
        "typed emission is not stable"
    );
}
