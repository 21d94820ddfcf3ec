//! The crate's layers point one way (see the `# Layout` note in `src/lib.rs`): a concern's
//! `rules` know no I/O, its `store` and `stripe` parts know no Lambda, no shapes and no flow,
//! its `http` shapes do no I/O, its `flow` knows no HTTP request; the platform core below the
//! concerns knows none of them. This test reads every source
//! file, resolves every `crate::`, `super::` and `self::` path (in `use` trees and in code) and
//! every external crate a file names, and fails on the first import that points up.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The concerns: top-level modules whose children are parts.
const CONCERNS: &[&str] = &[
    "accounts",
    "byo_keys",
    "catalog",
    "costs",
    "credits",
    "dunning",
    "exports",
    "flags",
    "invoicing",
    "launch_offers",
    "operators",
    "promotions",
    "purchases",
    "quota",
    "stripe_events",
    "subscriptions",
    "usage",
];

/// A concern's parts, lowest first. A part may use its own level and the levels below it;
/// `store` and `stripe` share a level and may not use each other. The `http` shapes sit below
/// the flows because flows answer with them (a flow returns the view a route sends); a flow's
/// errors are mapped to HTTP beside the errors, in the flow.
fn level(part: &str) -> Option<u8> {
    match part {
        "rules" => Some(0),
        "store" | "stripe" => Some(1),
        "http" => Some(2),
        "flow" => Some(3),
        _ => None,
    }
}

/// Platform modules and external crates each part may not name.
fn forbidden_for(part: &str) -> (&'static [&'static str], &'static [&'static str]) {
    const IO_CRATES: &[&str] =
        &["aws_sdk_dynamodb", "aws_lambda_events", "lambda_http", "lambda_runtime", "serde_dynamo", "tokio"];
    const LAMBDA_CRATES: &[&str] = &["aws_lambda_events", "lambda_http", "lambda_runtime"];
    match part {
        "rules" => (
            &[
                "store",
                "lambda",
                "app",
                "events",
                "payments",
                "config",
                "secrets",
                "sdk_http",
                "cloudwatch",
                "openapi",
                "error",
                "messages",
            ],
            IO_CRATES,
        ),
        "store" => (&["lambda", "app", "payments", "openapi", "error", "messages"], LAMBDA_CRATES),
        "stripe" => (&["lambda", "store", "openapi", "messages"], LAMBDA_CRATES),
        "flow" => (&["lambda", "openapi"], LAMBDA_CRATES),
        "http" => (&["lambda", "app", "store", "events", "messages"], &["aws_sdk_dynamodb", "lambda_runtime"]),
        _ => (&[], &[]),
    }
}

/// Platform modules below every concern: they may use other platform modules and no concern
/// (the events and the configuration may name concerns' rules: an event carries them, the
/// configuration loads the catalog, prices and policies).
const CORE: &[&str] =
    &["store", "events", "payments", "messages", "clock", "config", "secrets", "sdk_http", "money", "ids", "period"];
const CORE_MAY_USE_RULES: &[&str] = &["events", "config"];

/// Known exceptions, each with its reason. Keep this list short.
const EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "store/mod.rs",
        "quota::store::FirstAttempt",
        "the reservation path's per-process account cache and first-attempt choice live on the one Store every handler shares",
    ),
    ("store/mod.rs", "quota::store::FirstAttempt::default", "as above"),
    ("store/mod.rs", "accounts::rules::Account", "as above: the cache holds accounts"),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/quota/store/settle.rs` → `["quota", "store", "settle"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src").with_extension("");
    let mut segments: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if matches!(segments.last().map(String::as_str), Some("mod" | "lib")) {
        segments.pop();
    }
    segments
}

/// Code without comments and string literals, so prose and messages are not read as paths.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if c == '"' && !escaped {
                        break;
                    }
                    escaped = c == '\\' && !escaped;
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every path a file names: the leaves of its `use` trees and the `a::b::c` chains in code,
/// each as written (segments).
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let tokens = tokenize(code);
    let mut paths = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "use" {
            let end = tokens[i..].iter().position(|t| t == ";").map_or(tokens.len(), |p| i + p);
            expand(&tokens[i + 1..end], &[], &mut paths);
            i = end + 1;
            continue;
        }
        if is_ident(&tokens[i]) && (i == 0 || tokens[i - 1] != "::") && tokens.get(i + 1).is_some_and(|t| t == "::") {
            let mut path = vec![tokens[i].clone()];
            let mut j = i + 1;
            while tokens.get(j).is_some_and(|t| t == "::") && tokens.get(j + 1).is_some_and(|t| is_ident(t)) {
                path.push(tokens[j + 1].clone());
                j += 2;
            }
            paths.push(path);
            i = j;
            continue;
        }
        i += 1;
    }
    paths
}

fn is_ident(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
}

fn tokenize(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = code.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            let mut end = start + c.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                if c.is_alphanumeric() || c == '_' {
                    end = i + c.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(code[start..end].to_owned());
        } else if c == ':' && chars.peek().is_some_and(|&(_, n)| n == ':') {
            chars.next();
            tokens.push("::".into());
        } else if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    tokens
}

/// Expands a `use` tree (`crate::{a::b, c::{self, d}}`) into its leaves.
fn expand(tokens: &[String], prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut depth = 0;
    let mut start = 0;
    // Split at top-level commas first (only inside braces; the outer tree has none).
    let mut items = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t.as_str() {
            "{" => depth += 1,
            "}" => depth -= 1,
            "," if depth == 0 => {
                items.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&tokens[start..]);
    for item in items {
        let mut path = prefix.to_vec();
        let mut i = 0;
        while i < item.len() {
            match item[i].as_str() {
                "{" => {
                    let inner = &item[i + 1..item.len() - 1];
                    expand(inner, &path, out);
                    path.clear();
                    break;
                }
                "::" => {}
                "as" => break,
                "pub" | "(" | ")" | "in" => {}
                t => path.push(t.to_owned()),
            }
            i += 1;
        }
        if !path.is_empty() {
            out.push(path);
        }
    }
}

/// The absolute module path a written path names, if it names one inside the crate.
fn resolve(path: &[String], module: &[String]) -> Option<Vec<String>> {
    let first = path.first()?.as_str();
    match first {
        "crate" => Some(path[1..].to_vec()),
        "super" | "self" => {
            let mut base = module.to_vec();
            let mut rest = path;
            while let Some(head) = rest.first() {
                match head.as_str() {
                    "super" => {
                        base.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            Some(base)
        }
        _ => None,
    }
}

/// `(concern, part)` of a file or target, or `(platform module, "")`.
fn place(module: &[String]) -> (String, String) {
    match module {
        [concern, part, ..] if CONCERNS.contains(&concern.as_str()) && level(part).is_some() => {
            (concern.clone(), part.clone())
        }
        [first, ..] => (first.clone(), String::new()),
        [] => (String::new(), String::new()),
    }
}

#[test]
fn no_part_of_the_crate_imports_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut violations = BTreeSet::new();
    for file in &files {
        let module = module_of(&src, file);
        let (owner, part) = place(&module);
        let text = std::fs::read_to_string(file).expect("readable");
        // Unit tests may reach anywhere.
        let text = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or_default();
        let code = code_only(text);
        let (platform_forbidden, crates_forbidden) = forbidden_for(&part);
        let rel = file.strip_prefix(&src).expect("under src").display().to_string();
        for written in paths_in(&code) {
            if crates_forbidden.contains(&written[0].as_str()) {
                violations.insert(format!("{rel}: {part} names the crate `{}`", written[0]));
            }
            let Some(target) = resolve(&written, &module) else { continue };
            let (to_owner, to_part) = place(&target);
            if to_owner.is_empty() || to_owner == "tests" {
                continue;
            }
            let named = target.join("::");
            if !part.is_empty() {
                if let (Some(from), Some(to)) = (level(&part), level(&to_part)) {
                    let sideways = from == 1 && to == 1 && part != to_part;
                    if to > from || sideways {
                        violations.insert(format!("{rel}: {owner}::{part} uses {named} (a {to_part} part)"));
                    }
                } else if to_part.is_empty() && platform_forbidden.contains(&to_owner.as_str()) {
                    violations.insert(format!("{rel}: {owner}::{part} uses the platform module {named}"));
                }
            } else if CORE.contains(&owner.as_str()) && CONCERNS.contains(&to_owner.as_str()) {
                let allowed = (CORE_MAY_USE_RULES.contains(&owner.as_str()) && to_part == "rules")
                    || EXCEPTIONS.iter().any(|(file, target, _)| *file == rel && *target == named);
                if !allowed {
                    violations.insert(format!("{rel}: the platform module {owner} uses the concern {named}"));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "{} imports point up:\n{}",
        violations.len(),
        violations.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_layer_check_reads_use_trees_and_relative_paths() {
    let paths = paths_in(&code_only(
        "use crate::{quota::{rules::Hold, store::{self, Store}}, ids::OrganizationId};\nuse super::flow::apply;\nlet x = crate::lambda::http::ok_json(1); // crate::app::App\n",
    ));
    let module: Vec<String> = vec!["quota".into(), "rules".into()];
    let resolved: Vec<String> = paths.iter().filter_map(|p| resolve(p, &module)).map(|p| p.join("::")).collect();
    assert_eq!(
        resolved,
        [
            "quota::rules::Hold",
            "quota::store::self",
            "quota::store::Store",
            "ids::OrganizationId",
            "quota::flow::apply",
            "lambda::http::ok_json"
        ]
    );
}
