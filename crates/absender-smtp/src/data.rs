//! The message after DATA (RFC 5321 §4.1.1.4, §4.5.2), read so that only
//! `<CRLF>.<CRLF>` ends it.
//!
//! SMTP smuggling (CVE-2023-51764, CVE-2023-51766) hides a second message
//! behind an end of data that one server sees and another does not (`\n.\n`,
//! `\r.\r`, …). absender accepts no bare CR or LF at all, as Postfix does with
//! `smtpd_forbid_bare_newline`, and refuses lines longer than RFC 5322 allows
//! rather than splitting them (a split piece that begins with "." would end
//! the data early or lose its dot). Either way it reads on to the real end, so
//! nothing of the message is ever taken for a command.

/// Longest line, without its CRLF (RFC 5322 §2.1.1, RFC 5321 §4.5.3.1.6).
pub const MAX_LINE: usize = 998;

/// Why a message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A CR not followed by LF, or an LF not preceded by CR.
    BareNewline,
    /// A line longer than [`MAX_LINE`] octets.
    LineTooLong,
    /// More than the size limit.
    TooLarge,
}

/// Takes the bytes after `354` as they arrive; undoes dot-stuffing.
#[derive(Debug)]
pub struct DataReader {
    max: usize,
    data: Vec<u8>,
    fault: Option<Fault>,
    /// Octets of the current line so far, as sent (a stuffing dot included).
    line_len: usize,
    /// Nothing of the current line yet.
    at_start: bool,
    /// The current line so far is one (stuffing) dot.
    only_dot: bool,
    /// The last octet was a CR.
    cr: bool,
}

impl DataReader {
    /// A reader for a message of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            data: Vec::with_capacity(max.min(64 * 1024)),
            fault: None,
            line_len: 0,
            at_start: true,
            only_dot: false,
            cr: false,
        }
    }

    /// Reads from `input`; returns how many bytes it used and whether the
    /// message has ended. Bytes after the end belong to the next command.
    pub fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while i < input.len() {
            if self.cr {
                self.cr = false;
                if input[i] == b'\n' {
                    i += 1;
                    if self.only_dot {
                        return (i, true);
                    }
                    self.keep(b"\r\n");
                    self.line_len = 0;
                    self.at_start = true;
                    continue;
                }
                // A bare CR: refused, and counted as part of the line.
                self.refuse(Fault::BareNewline);
                self.content(b"\r");
            }
            let b = input[i];
            match b {
                b'\r' => {
                    self.cr = true;
                    i += 1;
                }
                b'\n' => {
                    self.refuse(Fault::BareNewline);
                    self.content(b"\n");
                    i += 1;
                }
                b'.' if self.at_start => {
                    // Dot-stuffing: the first dot of a line is not the message's.
                    self.at_start = false;
                    self.only_dot = true;
                    self.line_len = 1;
                    i += 1;
                }
                _ => {
                    let run = input[i..]
                        .iter()
                        .position(|&c| c == b'\r' || c == b'\n')
                        .unwrap_or(input.len() - i);
                    self.content(&input[i..i + run]);
                    i += run;
                }
            }
        }
        (i, false)
    }

    /// The message, or why it is refused. Call once `feed` said it ended.
    pub fn finish(self) -> Result<Vec<u8>, Fault> {
        match self.fault {
            Some(fault) => Err(fault),
            None => Ok(self.data),
        }
    }

    /// Part of a line (not its CRLF).
    fn content(&mut self, bytes: &[u8]) {
        self.at_start = false;
        self.only_dot = false;
        self.line_len += bytes.len();
        if self.line_len > MAX_LINE {
            self.refuse(Fault::LineTooLong);
        }
        self.keep(bytes);
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.fault.is_some() {
            return;
        }
        if self.data.len() + bytes.len() > self.max {
            self.refuse(Fault::TooLarge);
            return;
        }
        self.data.extend_from_slice(bytes);
    }

    /// The first fault stands, except that a bare newline always wins: it is
    /// the sign of a smuggling attempt, and the session ends on it.
    fn refuse(&mut self, fault: Fault) {
        if self.fault.is_none() || fault == Fault::BareNewline {
            self.fault = Some(fault);
            self.data = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `piece` bytes; the outcome and what was left over.
    fn read(input: &[u8], max: usize, piece: usize) -> (Option<Result<Vec<u8>, Fault>>, Vec<u8>) {
        let mut reader = DataReader::new(max);
        let mut offset = 0;
        while offset < input.len() {
            let end = (offset + piece).min(input.len());
            let (used, done) = reader.feed(&input[offset..end]);
            if done {
                return (Some(reader.finish()), input[offset + used..].to_vec());
            }
            assert_eq!(used, end - offset, "a reader that has not ended uses all");
            offset = end;
        }
        (None, Vec::new())
    }

    fn all_pieces(input: &[u8], max: usize) -> (Option<Result<Vec<u8>, Fault>>, Vec<u8>) {
        let whole = read(input, max, input.len().max(1));
        for piece in 1..input.len().min(12) {
            assert_eq!(read(input, max, piece), whole, "in pieces of {piece}");
        }
        whole
    }

    #[test]
    fn only_crlf_dot_crlf_ends_and_the_rest_is_the_next_command() {
        let (got, rest) = all_pieces(b"Subject: x\r\n\r\nHello\r\n.\r\nQUIT\r\n", 1000);
        assert_eq!(got, Some(Ok(b"Subject: x\r\n\r\nHello\r\n".to_vec())));
        assert_eq!(rest, b"QUIT\r\n");
    }

    #[test]
    fn an_empty_message_ends_at_once() {
        assert_eq!(all_pieces(b".\r\nNOOP\r\n", 10).0, Some(Ok(Vec::new())));
    }

    #[test]
    fn stuffed_dots_are_removed_once() {
        let (got, _) = all_pieces(b"..\r\n..hidden\r\n.x\r\n.\r\n", 1000);
        assert_eq!(got, Some(Ok(b".\r\n.hidden\r\nx\r\n".to_vec())));
    }

    #[test]
    fn every_smuggling_ending_is_refused_and_read_past() {
        let second = b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nsmuggled\r\n";
        for ending in [&b"\n.\n"[..], b"\r\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r"] {
            let mut input = b"Hello".to_vec();
            input.extend_from_slice(ending);
            input.extend_from_slice(second);
            input.extend_from_slice(b".\r\nQUIT\r\n");
            let (got, rest) = all_pieces(&input, 10_000);
            assert_eq!(got, Some(Err(Fault::BareNewline)), "{ending:?}");
            assert_eq!(rest, b"QUIT\r\n", "{ending:?}: only the real end ends");
        }
    }

    #[test]
    fn a_line_longer_than_998_octets_is_refused_not_split() {
        let mut input = vec![b'a'; 65_536];
        input.extend_from_slice(b".\r\nsmuggled\r\n.\r\nNOOP\r\n");
        let (got, rest) = all_pieces(&input, 1 << 20);
        assert_eq!(got, Some(Err(Fault::LineTooLong)));
        assert_eq!(rest, b"NOOP\r\n");

        let mut fits = vec![b'a'; MAX_LINE];
        fits.extend_from_slice(b"\r\n.\r\n");
        assert!(matches!(read(&fits, 1 << 20, 4096).0, Some(Ok(_))));
        let mut stuffed = vec![b'.'; MAX_LINE + 1];
        stuffed.extend_from_slice(b"\r\n.\r\n");
        assert_eq!(
            read(&stuffed, 1 << 20, 4096).0,
            Some(Err(Fault::LineTooLong)),
            "the stuffing dot is on the wire"
        );
    }

    #[test]
    fn a_message_over_the_limit_is_refused_after_its_end() {
        let (got, rest) = all_pieces(b"0123456789\r\n0123456789\r\n.\r\nQUIT\r\n", 20);
        assert_eq!(got, Some(Err(Fault::TooLarge)));
        assert_eq!(rest, b"QUIT\r\n");
    }

    #[test]
    fn a_bare_newline_outranks_an_earlier_fault() {
        let (got, _) = all_pieces(b"0123456789\r\n0123456789\n.\r\n.\r\n", 5);
        assert_eq!(got, Some(Err(Fault::BareNewline)));
    }
}
