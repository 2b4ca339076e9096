//! PF_KEYv2 (RFC 2367 plus the Linux/KAME extensions) message codec and a thin
//! Linux socket adapter.
