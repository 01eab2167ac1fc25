//! What a template may use, checked on its source before Handlebars sees
//! it: SES's template language (variables, nested attributes, `{{#if}}`,
//! `{{#unless}}`, `{{#with}}`, `{{#each}}`, `{{else}}`, `{{else if …}}`,
//! comments) and no more. Partials and decorators can include each other
//! without end, rendering recurses once per block level (and per `else if`
//! link) on the thread's stack, and `{{#each}}` inside `{{#each}}`
//! multiplies the data: an organization's template must not be able to
//! crash or stall a node.
//!
//! The check is an allow-list, so that it cannot read a tag differently
//! from Handlebars: inside `{{ }}` only names, paths, numbers, `@data`,
//! `=`, parentheses and whitespace are taken (no string literals, no
//! `[…]` names, no `>`, `*` or `&`), so a tag ends at the first `}}` for
//! both; comments must end as Handlebars ends them.

/// Blocks, `else if` links and subexpressions nest at most this deep.
pub(crate) const MAX_DEPTH: usize = 16;
/// `{{#each}}` blocks in one part, at most.
pub(crate) const MAX_EACH_BLOCKS: usize = 50;
/// The block helpers SES's templates have.
const BLOCKS: [&str; 4] = ["if", "unless", "with", "each"];
/// Helpers an `{{else …}}` may chain.
const CHAINS: [&str; 2] = ["if", "unless"];

/// An open block and the `else if` links chained to it.
struct Open<'a> {
    name: &'a str,
    links: usize,
}

/// Why a template's source is refused.
pub(crate) fn check(source: &str) -> Result<(), String> {
    let b = source.as_bytes();
    let mut open: Vec<Open> = Vec::new();
    let mut each_blocks = 0;
    let mut i = 0;
    while let Some(at) = find(b, i, b"{{") {
        if at > 0 && b[at - 1] == b'\\' {
            return Err("a backslash before {{ (an escaped tag) is not supported".into());
        }
        if b[at..].starts_with(b"{{{{") {
            return Err("raw blocks ({{{{…}}}}) are not supported".into());
        }
        // Comments: a long one ends at its `--}}` (Handlebars reads one
        // without it differently: refused); a short one at the first `}}`.
        if b[at..].starts_with(b"{{!--") || b[at..].starts_with(b"{{~!--") {
            let end = find(b, at + 5, b"--}}").ok_or("a {{!-- comment is not closed with --}}")?;
            i = end + 4;
            continue;
        }
        if b[at..].starts_with(b"{{!") || b[at..].starts_with(b"{{~!") {
            let end = find(b, at + 3, b"}}").ok_or("a {{! comment is not closed with }}")?;
            i = end + 2;
            continue;
        }
        let end = find(b, at + 2, b"}}").ok_or("a tag is not closed with }}")?;
        let inner = &source[at + 2..end];
        // `{{{x}}}` (unescaped) closes with `}}}`: the third brace is its own.
        let tag = inner
            .strip_prefix('{')
            .unwrap_or(inner)
            .trim_start_matches('~')
            .trim_end_matches('~')
            .trim();
        if let Some(bad) = tag
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || "_.@/#^=()- \t\r\n".contains(c)))
        {
            return Err(format!(
                "{bad:?} in {{{{{tag}}}}}: tags take names, paths, numbers and (subexpressions), not string literals, [names], partials or decorators"
            ));
        }
        let parens = paren_depth(tag)?;
        let mut words = tag.split_whitespace();
        let first = words.next().unwrap_or_default();
        if let Some(name) = first.strip_prefix('#') {
            let Some(&block) = BLOCKS.iter().find(|&&known| known == name) else {
                return Err(format!(
                    "the block {{{{#{name}}}}} is not one of #if, #unless, #with, #each"
                ));
            };
            if block == "each" {
                if open.iter().any(|o| o.name == "each") {
                    return Err("{{#each}} inside {{#each}} is not supported".into());
                }
                each_blocks += 1;
                if each_blocks > MAX_EACH_BLOCKS {
                    return Err(format!("at most {MAX_EACH_BLOCKS} {{{{#each}}}} blocks"));
                }
            }
            open.push(Open {
                name: block,
                links: 0,
            });
        } else if first.starts_with('^') {
            if first != "^" {
                return Err("inverse blocks ({{^name}}) are not supported; use {{#unless}}".into());
            }
        } else if first == "else" {
            if let Some(chained) = words.next() {
                if !CHAINS.contains(&chained) {
                    return Err(format!(
                        "{{{{else {chained}}}}} is not supported; chain {{{{else if}}}} or {{{{else unless}}}}"
                    ));
                }
                let Some(block) = open.last_mut() else {
                    return Err("{{else}} outside a block".into());
                };
                block.links += 1;
            }
        } else if let Some(name) = first.strip_prefix('/') {
            match open.pop() {
                Some(block) if block.name == name => {}
                _ => return Err(format!("{{{{/{name}}}}} closes no open {{{{#{name}}}}}")),
            }
        }
        let depth: usize = open.iter().map(|o| 1 + o.links).sum::<usize>() + parens;
        if depth > MAX_DEPTH {
            return Err(format!(
                "blocks, else-if links and subexpressions nest deeper than {MAX_DEPTH} levels"
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

/// How deep a tag's parentheses nest.
fn paren_depth(tag: &str) -> Result<usize, String> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in tag.chars() {
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("unbalanced ) in {{{{{tag}}}}}"))?
            }
            _ => {}
        }
    }
    Ok(deepest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ses_templates_pass() {
        for fine in [
            "Hallo {{name}}, {{event.title}} am {{event.date}}.",
            "{{#if vip}}VIP{{else if gast}}Gast{{else unless x}}-{{else}}?{{/if}}",
            "{{#each seats}}{{this}} {{#if @last}}.{{/if}}{{/each}}{{#each rows}}{{.}}{{/each}}",
            "{{#with event}}{{title}}{{/with}}{{#unless x}}y{{^}}z{{/unless}}",
            "{{{html}}} {{~name~}} {{! a comment }} {{!-- {{#each}} in a comment --}}",
            "{{#if (eq a b)}}x{{/if}} {{lookup this key}} {{x a=b}} {{../name}}",
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
            "{{#each a}}{{#if z}}{{else each a}}x{{/if}}{{/each}}",
            "{{#custom x}}y{{/custom}}",
            "{{^items}}none{{/items}}",
            "{{name",
            "{{lookup . \"x\"}}",
            "{{[q\"]}}{{> subject}}{{[r\"]}}",
            "{{!--}}{{> subject}}",
            "{{#if a}}x{{/each}}",
            "{{&name}}",
        ] {
            assert!(check(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn nesting_counts_blocks_links_and_parentheses() {
        let deep = |n: usize| format!("{}x{}", "{{#if a}}".repeat(n), "{{/if}}".repeat(n));
        assert_eq!(check(&deep(MAX_DEPTH)), Ok(()));
        assert!(check(&deep(MAX_DEPTH + 1)).is_err());
        let chain = |n: usize| format!("{{{{#if a}}}}{}{{{{/if}}}}", "{{else if b}}".repeat(n));
        assert_eq!(check(&chain(MAX_DEPTH - 1)), Ok(()));
        assert!(check(&chain(40_000)).is_err());
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
