//! Text from peers absender does not control (receiving servers' SMTP
//! replies, DSN fields, DNS records) made fit to store and show: a NUL makes
//! PostgreSQL refuse the whole write, other control characters garble logs
//! and pages, and a peer decides how long its text is.

/// The most bytes of outside text kept.
pub const MAX_OUTSIDE_TEXT: usize = 1000;

/// `text` with line breaks and tabs as spaces, other control characters
/// (NUL, ESC, DEL, C1) as U+FFFD, and at most [`MAX_OUTSIDE_TEXT`] bytes
/// (cut at a character boundary, marked with "…").
pub fn clean(text: &str) -> String {
    const MARK: char = '…';
    let mut cleaned: String = text
        .chars()
        .map(|c| match c {
            '\t' | '\r' | '\n' => ' ',
            c if c.is_control() => char::REPLACEMENT_CHARACTER,
            c => c,
        })
        .collect();
    if cleaned.len() > MAX_OUTSIDE_TEXT {
        let mut cut = MAX_OUTSIDE_TEXT - MARK.len_utf8();
        while !cleaned.is_char_boundary(cut) {
            cut -= 1;
        }
        cleaned.truncate(cut);
        cleaned.push(MARK);
    }
    cleaned
}

/// Like [`clean`], for bytes that need not be UTF-8.
pub fn clean_bytes(bytes: &[u8]) -> String {
    clean(&String::from_utf8_lossy(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced_and_plain_text_kept() {
        assert_eq!(clean("250 2.0.0 Ok: queued"), "250 2.0.0 Ok: queued");
        assert_eq!(clean("250 ok\0"), "250 ok\u{FFFD}");
        assert_eq!(clean("550 a\r\n550 b\tc"), "550 a  550 b c");
        assert_eq!(
            clean("x\u{1b}[31my\u{7f}\u{85}"),
            "x\u{FFFD}[31my\u{FFFD}\u{FFFD}"
        );
        assert_eq!(clean("Grüße"), "Grüße");
        assert_eq!(clean_bytes(b"ok\xff\x00"), "ok\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn length_is_capped_at_a_character_boundary() {
        let long = "ä".repeat(800); // 1,600 bytes
        let cut = clean(&long);
        assert!(cut.len() <= MAX_OUTSIDE_TEXT, "{}", cut.len());
        assert!(cut.ends_with('…'));
        assert!(cut.len() > MAX_OUTSIDE_TEXT - 8);
        let exact = "a".repeat(MAX_OUTSIDE_TEXT);
        assert_eq!(clean(&exact), exact, "short enough text is not marked");
    }
}
