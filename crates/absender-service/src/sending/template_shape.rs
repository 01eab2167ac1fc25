//! What a template may use, checked on its source before Handlebars sees
//! it: SES's template language (variables, nested attributes, `{{#if}}`,
//! `{{#unless}}`, `{{#with}}`, `{{#each}}`, `{{else}}`, comments) and no
//! more. Partials and decorators can include each other without end, and
//! rendering recurses once per block level on the thread's stack, and
//! `{{#each}}` inside `{{#each}}` multiplies the data: an organization's
//! template must not be able to crash or stall a node. The scanner follows
//! Handlebars' lexical rules (comments, string literals) so that text that is
//! not a tag never counts as one.

/// Blocks and subexpressions nest at most this deep.
pub(crate) const MAX_DEPTH: usize = 8;
/// `{{#each}}` blocks in one part, at most.
pub(crate) const MAX_EACH_BLOCKS: usize = 50;
/// The block helpers SES's templates have.
const BLOCKS: [&str; 4] = ["if", "unless", "with", "each"];

/// Why a template's source is refused.
pub(crate) fn check(source: &str) -> Result<(), String> {
    let b = source.as_bytes();
    let mut open: Vec<&str> = Vec::new();
    let mut each_blocks = 0;
    let mut i = 0;
    while let Some(at) = find(b, i, b"{{") {
        if at > 0 && b[at - 1] == b'\\' {
            return Err("a backslash before {{ (an escaped tag) is not supported".into());
        }
        if b[at..].starts_with(b"{{{{") {
            return Err("raw blocks ({{{{…}}}}) are not supported".into());
        }
        if b[at..].starts_with(b"{{!--") {
            i = find(b, at + 5, b"--}}").map_or(b.len(), |end| end + 4);
            continue;
        }
        if b[at..].starts_with(b"{{!") {
            i = find(b, at + 3, b"}}").map_or(b.len(), |end| end + 2);
            continue;
        }
        // The tag's text: after `{{`, `{` (triple-stash) and `~`, up to the
        // `}}` that is not inside a string literal.
        let mut j = at + 2;
        while j < b.len() && matches!(b[j], b'{' | b'~' | b' ' | b'\t' | b'\r' | b'\n') {
            j += 1;
        }
        let (end, parens) = tag_end(b, j)?;
        let tag = &source[j..end];
        match tag.as_bytes().first() {
            Some(b'>') => return Err("partials ({{> …}}) are not supported".into()),
            Some(b'*') => return Err("decorators ({{* …}}) are not supported".into()),
            Some(b'#') | Some(b'^') if tag.len() > 1 => {
                let name = tag[1..]
                    .split(|c: char| c.is_whitespace() || c == '(' || c == '~' || c == '}')
                    .next()
                    .unwrap_or_default();
                let Some(&block) = BLOCKS.iter().find(|&&known| known == name) else {
                    return Err(format!(
                        "the block {{{{#{name}}}}} is not one of #if, #unless, #with, #each"
                    ));
                };
                if block == "each" {
                    if open.contains(&"each") {
                        return Err("{{#each}} inside {{#each}} is not supported".into());
                    }
                    each_blocks += 1;
                    if each_blocks > MAX_EACH_BLOCKS {
                        return Err(format!("at most {MAX_EACH_BLOCKS} {{{{#each}}}} blocks"));
                    }
                }
                open.push(block);
            }
            Some(b'/') => {
                open.pop();
            }
            _ => {}
        }
        if open.len() + parens > MAX_DEPTH {
            return Err(format!(
                "blocks and subexpressions nest deeper than {MAX_DEPTH} levels"
            ));
        }
        i = end + 2;
    }
    Ok(())
}

fn find(b: &[u8], from: usize, what: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(what.len())
        .position(|w| w == what)
        .map(|p| p + from)
}

/// Where the tag that starts at `from` ends (at its `}}`), skipping string
/// literals, and how deep its parentheses nest.
fn tag_end(b: &[u8], from: usize) -> Result<(usize, usize), String> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = from;
    while i < b.len() {
        match b[i] {
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != quote {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            b'}' if b.get(i + 1) == Some(&b'}') => return Ok((i, deepest)),
            _ => {}
        }
        i += 1;
    }
    Err("a tag is not closed with }}".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ses_templates_pass() {
        for fine in [
            "Hallo {{name}}, {{event.title}} am {{event.date}}.",
            "{{#if vip}}VIP{{else if gast}}Gast{{else}}-{{/if}}",
            "{{#each seats}}{{this}} {{#if @last}}.{{/if}}{{/each}}{{#each rows}}{{.}}{{/each}}",
            "{{#with event}}{{title}}{{/with}}{{#unless x}}y{{/unless}}",
            "{{{html}}} {{~name~}} {{! a comment }} {{!-- {{#each}} in a comment --}}",
            "{{lookup . \"a}}b\"}} and {{lookup . 'c}}{{/if'}}",
            "no tags at all",
        ] {
            assert_eq!(check(fine), Ok(()), "{fine}");
        }
    }

    #[test]
    fn partials_decorators_raw_blocks_and_other_helpers_are_refused() {
        for refused in [
            "{{> other}}",
            "{{#> layout}}x{{/layout}}",
            "{{#*inline \"a\"}}{{> a}}{{/inline}}",
            "{{* decorator}}",
            "{{{{raw}}}} {{/if}} {{{{/raw}}}}",
            "\\{{/if}}",
            "{{#each a}}{{#each b}}x{{/each}}{{/each}}",
            "{{#each a}}{{#if b}}{{#each c}}x{{/each}}{{/if}}{{/each}}",
            "{{#custom x}}y{{/custom}}",
            "{{name",
        ] {
            assert!(check(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn nesting_is_counted_so_that_no_text_hides_a_level() {
        let deep = |n: usize| format!("{}x{}", "{{#if a}}".repeat(n), "{{/if}}".repeat(n));
        assert_eq!(check(&deep(MAX_DEPTH)), Ok(()));
        assert!(check(&deep(MAX_DEPTH + 1)).is_err());
        // A closing tag inside a string literal or a comment closes nothing.
        let hidden = format!(
            "{{{{lookup . \"}}}}{{{{/if\"}}}}{{{{!-- {{{{/if}}}} --}}}}{}",
            deep(MAX_DEPTH + 1)
        );
        assert!(check(&hidden).is_err());
        let parens = format!(
            "{{{{x {}y{}}}}}",
            "(f ".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(check(&parens).is_err());
        let many = "{{#each a}}x{{/each}}".repeat(MAX_EACH_BLOCKS + 1);
        assert!(check(&many).is_err());
    }
}
