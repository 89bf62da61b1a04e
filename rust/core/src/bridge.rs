//! Bridge corpora: each hyperword paired with ordinary language, rendered through a template.
//!
//! - `segment`: `водагрустьплавностьсвет` → `вода грусть плавность свет`;
//! - `translate`: → `water sadness smoothness light` (each word's concept in the pivot language).
//!
//! The template (default `{source} = {target}`) renders both sides into the `text` column;
//! the `source` and `target` columns keep them apart.

use crate::error::{Error, Result};
use crate::word::is_forbidden_char;
use serde::{Deserialize, Serialize};

pub const DEFAULT_TEMPLATE: &str = "{source} = {target}";
/// The longest template, in bytes. Each placeholder copies a whole phrase (up to about 1 MiB),
/// so this bounds one row to some 140 MiB, within a record batch's text.
pub const MAX_TEMPLATE_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BridgeMode {
    Segment,
    Translate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    pub mode: BridgeMode,
    /// The target language of `translate` (ignored by `segment`).
    #[serde(default)]
    pub pivot: Option<String>,
    #[serde(default = "default_template")]
    pub template: String,
}

fn default_template() -> String {
    DEFAULT_TEMPLATE.into()
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(Vec<u8>),
    Source,
    Target,
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

impl BridgeConfig {
    pub fn validate(&self) -> Result<()> {
        if self.mode == BridgeMode::Translate && self.pivot.as_deref().map_or(true, str::is_empty) {
            return Err(Error::config("a translate bridge needs a pivot language (--pivot)"));
        }
        Template::parse(&self.template).map(drop)
    }
}

impl Template {
    /// `{source}` and `{target}` are replaced; `{{` and `}}` stand for braces.
    pub fn parse(template: &str) -> Result<Template> {
        if template.len() > MAX_TEMPLATE_BYTES {
            return Err(Error::config(format!(
                "the template is longer than {MAX_TEMPLATE_BYTES} bytes ({})",
                template.len()
            )));
        }
        let bad = |why: &str| Error::config(format!("template {template:?}: {why}"));
        if let Some(c) = template
            .chars()
            .find(|&c| is_forbidden_char(c) && c != '\n' && c != '\t')
        {
            return Err(bad(&format!(
                "contains the control or format character U+{:04X}",
                c as u32
            )));
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = template;
        while let Some(i) = rest.find(['{', '}']) {
            literal.push_str(&rest[..i]);
            rest = &rest[i..];
            let (part, len) = if rest.starts_with("{{") || rest.starts_with("}}") {
                (None, 2)
            } else if rest.starts_with("{source}") {
                (Some(Part::Source), 8)
            } else if rest.starts_with("{target}") {
                (Some(Part::Target), 8)
            } else {
                return Err(bad(
                    "only {source} and {target} may stand in braces (write {{ and }} for braces)",
                ));
            };
            match part {
                None => literal.push_str(&rest[..1]),
                Some(p) => {
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal).into_bytes()));
                    }
                    parts.push(p);
                }
            }
            rest = &rest[len..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal.into_bytes()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Source | Part::Target)) {
            return Err(bad("it must contain {source} or {target}"));
        }
        Ok(Template { parts })
    }

    pub fn render(&self, source: &[u8], target: &[u8], out: &mut Vec<u8>) {
        for part in &self.parts {
            out.extend_from_slice(match part {
                Part::Literal(bytes) => bytes,
                Part::Source => source,
                Part::Target => target,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str) -> String {
        let mut out = Vec::new();
        Template::parse(template)
            .unwrap()
            .render("водасвет".as_bytes(), "вода свет".as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn renders_placeholders_and_escaped_braces() {
        assert_eq!(render(DEFAULT_TEMPLATE), "водасвет = вода свет");
        assert_eq!(render("{{{source}}} -> {target}\n"), "{водасвет} -> вода свет\n");
        assert_eq!(render("{target}"), "вода свет");
    }

    #[test]
    fn rejects_bad_templates() {
        for (t, needle) in [
            ("{src} = {target}", "only {source}"),
            ("plain", "must contain"),
            ("{source}\u{0}", "U+0000"),
        ] {
            let err = Template::parse(t).unwrap_err().to_string();
            assert!(err.contains(needle), "{t}: {err}");
        }
        // A long template repeating {source} made one row gigabytes long: memory without bound.
        let long = "{source}".repeat(MAX_TEMPLATE_BYTES / 8 + 1);
        assert!(Template::parse(&long)
            .unwrap_err()
            .to_string()
            .contains("longer than 1024 bytes"));
        assert!(Template::parse(&"{source}".repeat(MAX_TEMPLATE_BYTES / 8)).is_ok());
        let no_pivot = BridgeConfig {
            mode: BridgeMode::Translate,
            pivot: None,
            template: default_template(),
        };
        assert!(no_pivot.validate().unwrap_err().to_string().contains("pivot"));
    }
}
