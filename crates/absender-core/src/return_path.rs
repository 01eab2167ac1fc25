//! The envelope sender of each delivery, where its bounce reports arrive:
//! `bounces+<message id>.<recipient index>.<mac>@<host>`. The MAC (made by
//! the caller under the master key) binds the address to one recipient of
//! one message, so a report can be applied only to the delivery that got it.

/// Lowercase base32 characters of the MAC (80 bits).
pub const MAC_LEN: usize = 16;

const PREFIX: &str = "bounces+";

/// The parts of a return path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPath<'a> {
    pub message_id: &'a str,
    pub index: u32,
    pub mac: &'a str,
}

impl ReturnPath<'_> {
    /// The address at `host`.
    pub fn at(&self, host: &str) -> String {
        format!(
            "{PREFIX}{}.{}.{}@{host}",
            self.message_id, self.index, self.mac
        )
    }
}

/// Reads a return path (angle brackets allowed); `None` for anything else.
pub fn parse(address: &str) -> Option<ReturnPath<'_>> {
    let local = address.trim().trim_matches(['<', '>']).rsplit_once('@')?.0;
    let rest = strip_prefix_ignore_case(local, PREFIX)?;
    let mut parts = rest.splitn(3, '.');
    let (message_id, index, mac) = (parts.next()?, parts.next()?, parts.next()?);
    let well_formed = message_id.starts_with("msg_")
        && message_id[4..].bytes().all(|b| b.is_ascii_alphanumeric())
        && index.len() <= 5
        && index.bytes().all(|b| b.is_ascii_digit())
        && mac.len() == MAC_LEN
        && mac.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'));
    well_formed.then_some(ReturnPath {
        message_id,
        index: index.parse().ok()?,
        mac,
    })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_path_prints_and_parses_back() {
        let path = ReturnPath {
            message_id: "msg_abc123def456ghi789jk",
            index: 12,
            mac: "abcdefghijklmn23",
        };
        let address = path.at("bounce.acme.test");
        assert_eq!(
            address,
            "bounces+msg_abc123def456ghi789jk.12.abcdefghijklmn23@bounce.acme.test"
        );
        assert!(address.split('@').next().unwrap().len() <= 64);
        assert_eq!(parse(&address), Some(path.clone()));
        assert_eq!(parse(&format!("<{address}>")), Some(path));
    }

    #[test]
    fn anything_else_is_no_return_path() {
        for address in [
            "bounces+msg_abc@bounce.acme.test",
            "bounces+msg_abc.1@bounce.acme.test",
            "bounces+msg_abc.x.abcdefghijklmn23@h",
            "bounces+msg_abc.1.ABCDEFGHIJKLMN23@h",
            "bounces+msg_abc.1.abcdefghijklmn2@h",
            "bounces+msg_a.b.1.abcdefghijklmn23@h",
            "bounces+other.1.abcdefghijklmn23@h",
            "events@acme.test",
            "bounces+msg_abc.1.abcdefghijklmn23",
        ] {
            assert_eq!(parse(address), None, "{address}");
        }
    }
}
