//! ISAKMP / IKEv1 message codec.
