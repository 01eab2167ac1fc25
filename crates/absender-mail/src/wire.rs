//! A stored message as it goes on the wire after DATA.
//!
//! The SMTP client (lettre) dot-stuffs lines that follow a CRLF and adds
//! `<CRLF>.<CRLF>`. A bare CR or LF in the stored bytes would slip past both
//! (a `\n.\n` inside could end the data early at a receiver that takes bare
//! newlines: SMTP smuggling), so every line ending becomes CRLF first,
//! whatever was stored.

use std::borrow::Cow;

/// `raw` with every line ending as CRLF and without its final CRLF (the
/// client's `<CRLF>.<CRLF>` ends the last line).
pub fn for_data(raw: &[u8]) -> Cow<'_, [u8]> {
    let bare = raw.iter().enumerate().any(|(i, &b)| match b {
        b'\r' => raw.get(i + 1) != Some(&b'\n'),
        b'\n' => i == 0 || raw[i - 1] != b'\r',
        _ => false,
    });
    if !bare {
        return Cow::Borrowed(raw.strip_suffix(b"\r\n").unwrap_or(raw));
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\r' if raw.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
            }
            b'\r' | b'\n' => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    if out.ends_with(b"\r\n") {
        out.truncate(out.len() - 2);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_messages_pass_unchanged_but_for_the_last_line_end() {
        let raw = b"Subject: x\r\n\r\nHi\r\n.dot\r\n";
        let wire = for_data(raw);
        assert!(matches!(wire, Cow::Borrowed(_)));
        assert_eq!(&*wire, b"Subject: x\r\n\r\nHi\r\n.dot");
    }

    #[test]
    fn bare_newlines_become_crlf_so_no_dot_hides_behind_them() {
        for (stored, sent) in [
            (&b"a\n.\nb"[..], &b"a\r\n.\r\nb"[..]),
            (b"a\r.\rb\r\n", b"a\r\n.\r\nb"),
            (b"a\r\n.\nb\n", b"a\r\n.\r\nb"),
            (b"\n", b""),
            (b"a\r\r\nb", b"a\r\n\r\nb"),
        ] {
            assert_eq!(&*for_data(stored), sent, "{stored:?}");
        }
    }
}
