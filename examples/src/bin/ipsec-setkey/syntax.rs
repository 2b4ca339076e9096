//! The setkey(8) configuration language, as far as the seeds' users write
//! it: statements end with `;` and may span lines, `#` starts a comment,
//! keys are `0x…` hex or `"…"` text.
//!
//! ```text
//! add SRC DST PROTO SPI [-m MODE] [-r N] [-u REQID] [-lh S] [-ls S] [-bh B] [-bs B]
//!     [-E EALG KEY] [-A AALG KEY] [-C CALG] ;
//! get | delete SRC DST PROTO SPI ;        deleteall SRC DST PROTO ;
//! flush [PROTO] ;                          dump [PROTO] ;
//! spdadd | spdupdate SRC[/PLEN][[PORT]] DST[/PLEN][[PORT]] UPPER -P DIR POLICY ;
//! spddelete SRC DST UPPER -P DIR [POLICY] ; spdflush ;  spddump ;
//! ```
//!
//! Every error names the line of the token it is about.

use std::net::IpAddr;

use pfkey::request::{NatT, SaSpec};
use pfkey::wire::constants::{IPSEC_ULPROTO_ANY, UDP_ENCAP_ESPINUDP};
use pfkey::wire::{
    Address, IpsecLevel, IpsecMode, IpsecProto, IpsecRequest, Key, Lifetime, Policy, PolicyDir,
    PolicyType, SaType,
};

use ipsec_examples::algorithms::{self, AlgKind};

/// A parse error: the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

/// One statement and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub(crate) line: usize,
    pub(crate) command: Command,
}

/// Which SA a `get`/`delete` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SaId {
    pub(crate) satype: SaType,
    pub(crate) spi: u32,
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Add(Box<SaSpec>),
    Get(SaId),
    Delete(SaId),
    DeleteAll {
        satype: SaType,
        src: IpAddr,
        dst: IpAddr,
    },
    Flush(SaType),
    Dump(SaType),
    SpdAdd {
        update: bool,
        src: Address,
        dst: Address,
        policy: Policy,
    },
    SpdDelete {
        src: Address,
        dst: Address,
        policy: Policy,
    },
    SpdFlush,
    SpdDump,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: usize,
    quoted: bool,
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        line,
        message: message.into(),
    })
}

/// Splits `text` into tokens; `;` is a token of its own.
fn lex(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut tokens = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let mut chars = raw.char_indices().peekable();
        while let Some(&(start, c)) = chars.peek() {
            if c == '#' {
                break;
            }
            if c.is_whitespace() {
                chars.next();
            } else if c == ';' {
                chars.next();
                tokens.push(Token {
                    text: ";".into(),
                    line,
                    quoted: false,
                });
            } else if c == '"' {
                chars.next();
                let mut text = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '"' {
                        closed = true;
                        break;
                    }
                    text.push(c);
                }
                if !closed {
                    return err(line, "unterminated \"string\"");
                }
                tokens.push(Token {
                    text,
                    line,
                    quoted: true,
                });
            } else {
                let mut end = raw.len();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || c == ';' || c == '#' {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                tokens.push(Token {
                    text: raw.get(start..end).unwrap_or_default().to_owned(),
                    line,
                    quoted: false,
                });
            }
        }
    }
    Ok(tokens)
}

/// Parses a whole configuration.
pub(crate) fn parse(text: &str) -> Result<Vec<Statement>, SyntaxError> {
    let tokens = lex(text)?;
    let mut statements = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    for token in tokens {
        if token.text == ";" && !token.quoted {
            if let Some(first) = current.first() {
                let line = first.line;
                let command = Parser {
                    tokens: std::mem::take(&mut current),
                    at: 0,
                    end_line: token.line,
                }
                .statement()?;
                statements.push(Statement { line, command });
            }
        } else {
            current.push(token);
        }
    }
    if let Some(last) = current.last() {
        return err(last.line, format!("missing ';' after '{}'", last.text));
    }
    Ok(statements)
}

/// An address as written in a statement: `ADDR[/PLEN][[PORT]]`.
struct AddrRange {
    line: usize,
    ip: IpAddr,
    prefix: Option<u8>,
    port: Option<u16>,
}

impl AddrRange {
    /// The policy selector: a missing prefix is the full length, a
    /// missing port any.
    fn selector(&self, proto: u8) -> Address {
        let full = if self.ip.is_ipv4() { 32 } else { 128 };
        Address::selector(
            self.ip,
            self.prefix.unwrap_or(full),
            self.port.unwrap_or(0),
            proto,
        )
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Line of the `;`, for "expected more" errors.
    end_line: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self, what: &str) -> Result<Token, SyntaxError> {
        match self.tokens.get(self.at) {
            Some(t) => {
                self.at += 1;
                Ok(t.clone())
            }
            None => err(self.end_line, format!("expected {what} before ';'")),
        }
    }

    fn done(&self) -> Result<(), SyntaxError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => err(t.line, format!("unexpected '{}'", t.text)),
        }
    }

    /// setkey's `-4`, `-6` and `-n` (numeric output) change nothing here.
    fn skip_family_flags(&mut self) {
        while matches!(self.peek(), Some(t) if ["-4", "-6", "-n"].contains(&t.text.as_str())) {
            self.at += 1;
        }
    }

    fn statement(mut self) -> Result<Command, SyntaxError> {
        let name = self.next("a command")?;
        self.skip_family_flags();
        let command = match name.text.as_str() {
            "add" => Command::Add(Box::new(self.add()?)),
            "get" => Command::Get(self.sa_id()?),
            "delete" => Command::Delete(self.sa_id()?),
            "deleteall" => {
                let src = self.host()?;
                let dst = self.host()?;
                let (satype, _) = self.protocol()?;
                Command::DeleteAll { satype, src, dst }
            }
            "flush" => Command::Flush(self.optional_protocol()?),
            "dump" => Command::Dump(self.optional_protocol()?),
            "spdadd" | "spdupdate" => {
                let (src, dst) = self.selectors()?;
                let policy = self.policy(true)?;
                Command::SpdAdd {
                    update: name.text == "spdupdate",
                    src,
                    dst,
                    policy,
                }
            }
            "spddelete" => {
                let (src, dst) = self.selectors()?;
                let policy = self.policy(false)?;
                Command::SpdDelete { src, dst, policy }
            }
            "spdflush" => Command::SpdFlush,
            "spddump" => Command::SpdDump,
            other => return err(name.line, format!("unknown command '{other}'")),
        };
        self.done()?;
        Ok(command)
    }

    fn host(&mut self) -> Result<IpAddr, SyntaxError> {
        let r = self.range("an address")?;
        if r.prefix.is_some() || r.port.is_some() {
            return err(r.line, "an SA address takes no /prefix or [port]");
        }
        Ok(r.ip)
    }

    fn error_here<T>(&self, message: &str) -> Result<T, SyntaxError> {
        let line = self
            .at
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(self.end_line, |t| t.line);
        err(line, message)
    }

    /// `ADDR[/PLEN][[PORT]]`.
    fn range(&mut self, what: &str) -> Result<AddrRange, SyntaxError> {
        let t = self.next(what)?;
        let mut text = t.text.as_str();
        let mut port = None;
        if let Some(open) = text.find('[') {
            let Some(inner) = text.get(open + 1..).and_then(|s| s.strip_suffix(']')) else {
                return err(t.line, format!("'{}': unclosed [port]", t.text));
            };
            port = Some(if inner == "any" {
                0
            } else {
                inner
                    .parse()
                    .or_else(|_| err(t.line, format!("'{inner}' is not a port")))?
            });
            text = text.get(..open).unwrap_or_default();
        }
        let mut prefix = None;
        if let Some((addr, plen)) = text.split_once('/') {
            prefix = Some(
                plen.parse::<u8>()
                    .or_else(|_| err(t.line, format!("'{plen}' is not a prefix length")))?,
            );
            text = addr;
        }
        let ip: IpAddr = text
            .parse()
            .or_else(|_| err(t.line, format!("'{text}' is not an IP address")))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if prefix.is_some_and(|p| p > max) {
            return err(
                t.line,
                format!("prefix length {} is too long", prefix.unwrap_or(0)),
            );
        }
        Ok(AddrRange {
            line: t.line,
            ip,
            prefix,
            port,
        })
    }

    /// `esp`, `ah`, `ipcomp` or `esp-udp` (ESP in UDP, RFC 3948).
    fn protocol(&mut self) -> Result<(SaType, bool), SyntaxError> {
        let t = self.next("a protocol (esp, ah, ipcomp)")?;
        match t.text.as_str() {
            "esp" => Ok((SaType::Esp, false)),
            "esp-udp" => Ok((SaType::Esp, true)),
            "ah" => Ok((SaType::Ah, false)),
            "ipcomp" => Ok((SaType::IpComp, false)),
            other => err(t.line, format!("unknown protocol '{other}'")),
        }
    }

    fn optional_protocol(&mut self) -> Result<SaType, SyntaxError> {
        if self.peek().is_none() {
            return Ok(SaType::Unspec);
        }
        Ok(self.protocol()?.0)
    }

    fn number<T: std::str::FromStr>(&mut self, what: &str) -> Result<T, SyntaxError> {
        let t = self.next(what)?;
        let parsed = match t
            .text
            .strip_prefix("0x")
            .or_else(|| t.text.strip_prefix("0X"))
        {
            Some(hex) => u64::from_str_radix(hex, 16)
                .ok()
                .and_then(|v| v.to_string().parse().ok()),
            None => t.text.parse().ok(),
        };
        parsed.map_or_else(
            || err(t.line, format!("'{}' is not a valid {what}", t.text)),
            Ok,
        )
    }

    fn sa_id(&mut self) -> Result<SaId, SyntaxError> {
        let src = self.host()?;
        let dst = self.host()?;
        let (satype, _) = self.protocol()?;
        let spi = self.number("SPI")?;
        Ok(SaId {
            satype,
            spi,
            src,
            dst,
        })
    }

    fn key(&mut self, alg: &str) -> Result<(usize, Key), SyntaxError> {
        let t = self.next(&format!("a key for {alg}"))?;
        let bytes = if t.quoted {
            t.text.as_bytes().to_vec()
        } else if let Some(hex) = t.text.strip_prefix("0x") {
            ipsec_examples::input::parse_hex(hex)
                .ok()
                .filter(|b| !b.is_empty())
                .ok_or_else(|| SyntaxError {
                    line: t.line,
                    message: format!("the key for {alg} is not valid hex"),
                })?
        } else {
            return err(
                t.line,
                format!("the key for {alg} must be 0x… hex or \"text\""),
            );
        };
        let key = Key::new(&bytes).or_else(|e| err(t.line, e.to_string()))?;
        Ok((t.line, key))
    }

    /// An algorithm name of `kind` and, except for compression, its key
    /// (length-checked).
    fn algorithm(&mut self, kind: AlgKind) -> Result<(u8, Option<Key>), SyntaxError> {
        let name = self.next(match kind {
            AlgKind::Encrypt => "an encryption algorithm",
            AlgKind::Auth => "an authentication algorithm",
            AlgKind::Compress => "a compression algorithm",
        })?;
        let alg = algorithms::lookup(kind, &name.text).map_err(|message| SyntaxError {
            line: name.line,
            message,
        })?;
        if kind == AlgKind::Compress {
            return Ok((alg.id, None));
        }
        let (line, key) = self.key(&name.text)?;
        alg.check_key(&key)
            .map_err(|message| SyntaxError { line, message })?;
        Ok((alg.id, Some(key)))
    }

    fn add(&mut self) -> Result<SaSpec, SyntaxError> {
        let src_range = self.range("a source address")?;
        let dst_range = self.range("a destination address")?;
        let (src, dst) = (src_range.ip, dst_range.ip);
        let (src_port, dst_port) = (src_range.port, dst_range.port);
        if src_range.prefix.is_some() || dst_range.prefix.is_some() {
            return err(src_range.line, "an SA address takes no /prefix");
        }
        let (satype, udp) = self.protocol()?;
        if !udp && (src_port.is_some() || dst_port.is_some()) {
            return err(
                dst_range.line,
                "an SA address takes no [port] (esp-udp does)",
            );
        }
        let spi = self.number("SPI")?;
        let mut spec = SaSpec::new(satype, spi, src, dst);
        // setkey's default replay window is 0 (no replay check) unless -r.
        spec.replay = 0;
        let mut mode = IpsecMode::Any;
        let mut reqid = 0;
        let mut saw_enc = false;
        if udp {
            spec.nat_t = Some(NatT {
                encap_type: UDP_ENCAP_ESPINUDP,
                sport: src_port.unwrap_or(4500),
                dport: dst_port.unwrap_or(4500),
                original_address: None,
            });
        }
        while let Some(t) = self.peek().cloned() {
            self.at += 1;
            match t.text.as_str() {
                "-m" => {
                    let m = self.next("a mode")?;
                    mode = match m.text.as_str() {
                        "transport" => IpsecMode::Transport,
                        "tunnel" => IpsecMode::Tunnel,
                        "any" => IpsecMode::Any,
                        other => return err(m.line, format!("unknown mode '{other}'")),
                    };
                }
                "-r" => spec.replay = self.number("replay window (packets, 0..255)")?,
                "-u" => reqid = self.number("reqid")?,
                "-lh" | "-ls" | "-bh" | "-bs" => {
                    let value: u64 = self.number("lifetime")?;
                    let slot = if t.text.ends_with('h') {
                        &mut spec.hard
                    } else {
                        &mut spec.soft
                    };
                    let life = slot.get_or_insert_with(Lifetime::default);
                    if t.text.starts_with("-l") {
                        life.addtime = value;
                    } else {
                        life.bytes = value;
                    }
                }
                "-E" => {
                    let (id, key) = self.algorithm(AlgKind::Encrypt)?;
                    spec.encrypt = id;
                    spec.encrypt_key = key;
                    saw_enc = true;
                }
                "-A" => {
                    let (id, key) = self.algorithm(AlgKind::Auth)?;
                    spec.auth = id;
                    spec.auth_key = key;
                }
                "-C" => {
                    spec.encrypt = self.algorithm(AlgKind::Compress)?.0;
                    saw_enc = true;
                    if self.peek().is_some_and(|t| t.text == "-R") {
                        self.at += 1; // -R: the CPI is the SPI as given (always, here)
                    }
                }
                other => return err(t.line, format!("unknown option '{other}' for add")),
            }
        }
        match satype {
            SaType::Esp if !saw_enc => return self.error_here("esp needs -E ALGORITHM KEY"),
            SaType::Ah if spec.auth_key.is_none() => {
                return self.error_here("ah needs -A ALGORITHM KEY");
            }
            SaType::IpComp if !saw_enc => return self.error_here("ipcomp needs -C ALGORITHM"),
            _ => {}
        }
        spec.sa2 = Some(pfkey::request::sa2(mode, reqid));
        Ok(spec)
    }

    fn selectors(&mut self) -> Result<(Address, Address), SyntaxError> {
        let src = self.range("a source range")?;
        let dst = self.range("a destination range")?;
        if src.ip.is_ipv4() != dst.ip.is_ipv4() {
            return err(dst.line, "source and destination are of different families");
        }
        let upper =
            self.next("an upper-layer protocol (any, tcp, udp, icmp, icmp6, or a number)")?;
        let proto = match upper.text.as_str() {
            "any" => IPSEC_ULPROTO_ANY,
            "icmp" => 1,
            "tcp" => 6,
            "udp" => 17,
            "gre" => 47,
            "icmp6" | "ipv6-icmp" => 58,
            other => other.parse().or_else(|_| {
                err(
                    upper.line,
                    format!("unknown upper-layer protocol '{other}'"),
                )
            })?,
        };
        Ok((src.selector(proto), dst.selector(proto)))
    }

    /// `-P DIR [discard|none|ipsec REQUEST…|entrust|bypass]`. The action is
    /// required for spdadd, optional for spddelete.
    fn policy(&mut self, need_action: bool) -> Result<Policy, SyntaxError> {
        let flag = self.next("-P")?;
        if flag.text != "-P" {
            return err(flag.line, format!("expected -P, found '{}'", flag.text));
        }
        let d = self.next("a direction (in, out, fwd)")?;
        let dir = match d.text.as_str() {
            "in" => PolicyDir::Inbound,
            "out" => PolicyDir::Outbound,
            "fwd" => PolicyDir::Forward,
            other => return err(d.line, format!("unknown direction '{other}'")),
        };
        let Some(action) = self.peek().cloned() else {
            if need_action {
                return err(
                    d.line,
                    "expected discard, none or ipsec after the direction",
                );
            }
            return Ok(Policy::new(PolicyType::Ipsec, dir));
        };
        self.at += 1;
        let policy_type = match action.text.as_str() {
            "discard" => PolicyType::Discard,
            "none" => PolicyType::None,
            "ipsec" => PolicyType::Ipsec,
            "entrust" => PolicyType::Entrust,
            "bypass" => PolicyType::Bypass,
            other => return err(action.line, format!("unknown policy '{other}'")),
        };
        let mut policy = Policy::new(policy_type, dir);
        while self.peek().is_some() {
            let t = self.next("a request")?;
            policy.requests.push(request(&t)?);
        }
        if policy_type == PolicyType::Ipsec && policy.requests.is_empty() && need_action {
            return err(
                action.line,
                "ipsec needs at least one PROTO/MODE/SRC-DST/LEVEL request",
            );
        }
        if policy_type != PolicyType::Ipsec && !policy.requests.is_empty() {
            return err(action.line, format!("'{}' takes no requests", action.text));
        }
        Ok(policy)
    }
}

/// `PROTO/MODE/[SRC-DST]/[LEVEL]`, e.g. `esp/tunnel/10.0.0.1-10.0.0.2/unique:5`.
fn request(t: &Token) -> Result<IpsecRequest, SyntaxError> {
    let bad = |m: &str| err(t.line, format!("'{}': {m}", t.text));
    let parts: Vec<&str> = t.text.split('/').collect();
    let [proto, mode, endpoints, rest @ ..] = parts.as_slice() else {
        return bad("expected PROTO/MODE/SRC-DST/LEVEL");
    };
    let proto = match *proto {
        "esp" => IpsecProto::Esp,
        "ah" => IpsecProto::Ah,
        "ipcomp" => IpsecProto::IpComp,
        _ => return bad("protocol must be esp, ah or ipcomp"),
    };
    let mode = match *mode {
        "transport" => IpsecMode::Transport,
        "tunnel" => IpsecMode::Tunnel,
        _ => return bad("mode must be transport or tunnel"),
    };
    let tunnel = if endpoints.is_empty() {
        None
    } else {
        let Some((a, b)) = endpoints.split_once('-') else {
            return bad("tunnel endpoints must be SRC-DST");
        };
        let (Ok(a), Ok(b)) = (a.parse::<IpAddr>(), b.parse::<IpAddr>()) else {
            return bad("tunnel endpoints must be IP addresses");
        };
        Some((
            std::net::SocketAddr::new(a, 0),
            std::net::SocketAddr::new(b, 0),
        ))
    };
    if mode == IpsecMode::Tunnel && tunnel.is_none() {
        return bad("tunnel mode needs SRC-DST endpoints");
    }
    let (level, reqid) = match rest {
        [] | [""] => (IpsecLevel::Default, 0),
        ["default"] => (IpsecLevel::Default, 0),
        ["use"] => (IpsecLevel::Use, 0),
        ["require"] => (IpsecLevel::Require, 0),
        ["unique"] => (IpsecLevel::Unique, 0),
        [level] => match level.strip_prefix("unique:").map(str::parse::<u32>) {
            Some(Ok(id)) => (IpsecLevel::Unique, id),
            _ => return bad("level must be default, use, require, unique or unique:N"),
        },
        _ => return bad("too many '/'"),
    };
    Ok(IpsecRequest {
        proto,
        mode,
        level,
        reqid,
        tunnel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_span_lines_and_skip_comments() {
        let text = "# comment\nflush;\nadd 10.0.0.1 10.0.0.2 esp 0x201 -m tunnel -E 3des-cbc\n\
                    0x7aeaca3f87d060a12f4a4487d5a5c3355920fae69a96c831 # key\n\
                    -A hmac-md5 0xc0291ff014dccdd03874d9e8e4cdf3e6;\nspddump;";
        let stmts = parse(text).unwrap();
        assert_eq!(stmts.len(), 3);
        assert_eq!(stmts[0].line, 2);
        assert_eq!(stmts[1].line, 3);
        let Command::Add(spec) = &stmts[1].command else {
            panic!()
        };
        assert_eq!(spec.spi, 0x201);
        assert_eq!(spec.encrypt, 3);
        assert_eq!(spec.auth, 2);
        assert_eq!(spec.sa2.unwrap().mode, IpsecMode::Tunnel);
        assert_eq!(spec.encrypt_key.as_ref().unwrap().bits(), 192);
        assert_eq!(stmts[2].command, Command::SpdDump);
    }

    #[test]
    fn policy_requests() {
        let stmts = parse(
            "spdadd 172.16.1.0/24 172.16.2.0/24 any -P out ipsec\n\
             esp/tunnel/192.168.1.100-192.168.2.100/unique:7 ah/transport//use;",
        )
        .unwrap();
        let Command::SpdAdd { src, policy, .. } = &stmts[0].command else {
            panic!()
        };
        assert_eq!(src.prefixlen, 24);
        assert_eq!(src.proto, 255);
        assert_eq!(policy.requests.len(), 2);
        assert_eq!(policy.requests[0].level, IpsecLevel::Unique);
        assert_eq!(policy.requests[0].reqid, 7);
        assert_eq!(policy.requests[1].tunnel, None);
        assert_eq!(policy.requests[1].level, IpsecLevel::Use);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("flush;\nfrobnicate;", 2, "unknown command 'frobnicate'"),
            (
                "flush;\n\nspdadd any -P out ipsec esp/transport//require;",
                3,
                "'any' is not",
            ),
            (
                "add 1.1.1.1 2.2.2.2 esp 1\n-E 3des-cbc 0x1234;",
                2,
                "192-bit",
            ),
            (
                "add 1.1.1.1 2.2.2.2 esp 1 -E aes-gcm-16 0x00112233445566778899aabbccddeeff00112233;",
                1,
                "PF_KEY",
            ),
            (
                "spdadd 1.1.1.1 2.2.2.2 any\n-P sideways ipsec;",
                2,
                "direction",
            ),
            ("flush;\nspdflush", 2, "missing ';'"),
            (
                "add 1.1.1.1 2.2.2.2 esp 1 -A hmac-sha1 0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3;",
                1,
                "esp needs -E",
            ),
            ("add 1.1.1.1 2.2.2.2 ah 1 -A hmac-sha1 0x00;", 1, "160-bit"),
            (
                "spdadd 1.1.1.1 ::1 any -P out none;",
                1,
                "different families",
            ),
        ];
        for (text, line, needle) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text}: {e:?}");
            assert!(e.message.contains(needle), "{text}: {}", e.message);
        }
    }
}
