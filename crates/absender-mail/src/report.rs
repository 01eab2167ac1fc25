//! What delivery status notifications (RFC 3464) and abuse reports
//! (RFC 5965) share: a `multipart/report` whose machine-readable part is
//! blocks of "Name: value" fields, read here once for both.

use mail_parser::{MessagePart, MimeHeaders, PartType};

/// A part's `type/subtype`, lower case, if it has a Content-Type.
pub(crate) fn kind(part: &MessagePart<'_>) -> Option<String> {
    let ct = part.content_type()?;
    Some(format!(
        "{}/{}",
        ct.ctype().to_ascii_lowercase(),
        ct.subtype().unwrap_or("").to_ascii_lowercase()
    ))
}

/// A machine-readable part's text, whatever mail-parser made of its body.
pub(crate) fn text(part: &MessagePart<'_>) -> String {
    let bytes = match &part.body {
        PartType::Text(t) => t.as_bytes().to_vec(),
        PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
        _ => part.contents().to_vec(),
    };
    String::from_utf8_lossy(&bytes).into_owned()
}

/// "Name: value" fields of one block, continuation lines joined.
pub(crate) fn fields(block: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    fields
}
