//! Loading and validating lexicons.
//!
//! Two formats:
//! - a UTF-8 TSV with a header row; required columns `lang` and `word`, optional `concept`
//!   (a non-negative integer id), `field`, `pos` and `weight` (a non-negative number, 1 when
//!   empty); other columns are ignored;
//! - a plain word list, one word per line, whose language the caller names.
//!
//! A UTF-8 BOM and CRLF line endings are accepted, blank lines skipped and cells trimmed.
//! Any bad line fails the whole load with the file, the line number and the reason.

use crate::error::{Error, IoContext, Result};
use crate::word::{self, Normalization};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The longest word accepted, in UTF-8 bytes.
pub const MAX_WORD_BYTES: usize = 1024;

/// The shipped default lexicon (Multi-SimLex via Concepticon, CC BY 4.0; see `lexicons/`).
pub const DEFAULT_LEXICON_TSV: &str = include_str!("../../../lexicons/multisimlex.tsv");
pub const DEFAULT_LEXICON_NAME: &str = "<default lexicon: multisimlex.tsv>";

/// One (language, word) row of a lexicon.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Index into [`Lexicon::langs`].
    pub lang: u16,
    pub word: String,
    pub concept: Option<u32>,
    /// Index into [`Lexicon::fields`].
    pub field: Option<u16>,
    pub pos: Option<String>,
    pub weight: f64,
}

/// A validated lexicon, in file order.
#[derive(Debug, Clone)]
pub struct Lexicon {
    pub source: PathBuf,
    pub langs: Vec<String>,
    pub fields: Vec<String>,
    pub entries: Vec<Entry>,
    /// Words changed by NFC normalisation on load.
    pub normalized: usize,
    content_hash: String,
}

/// How to read a lexicon file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Read the file as a plain word list in this language.
    pub word_list_lang: Option<String>,
    pub normalization: Normalization,
}

impl Lexicon {
    /// The shipped default lexicon.
    pub fn default_lexicon() -> Lexicon {
        Self::parse(
            DEFAULT_LEXICON_TSV.as_bytes(),
            Path::new(DEFAULT_LEXICON_NAME),
            &LoadOptions::default(),
        )
        .expect("the shipped lexicon is valid (checked by tests)")
    }

    pub fn load(path: &Path, opts: &LoadOptions) -> Result<Lexicon> {
        if path.is_dir() {
            return Err(Error::lexicon(path, 0, "is a directory, not a lexicon file"));
        }
        let bytes = std::fs::read(path).at(path)?;
        Self::parse(&bytes, path, opts)
    }

    pub fn parse(bytes: &[u8], path: &Path, opts: &LoadOptions) -> Result<Lexicon> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut builder = Builder {
            path,
            opts,
            lexicon: Lexicon::empty(path),
            lang_ids: HashMap::new(),
            field_ids: HashMap::new(),
        };
        let mut lines = bytes.split(|&b| b == b'\n').enumerate().map(|(i, raw)| {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            std::str::from_utf8(raw).map(|s| (i + 1, s)).map_err(|e| {
                Error::lexicon(
                    path,
                    i + 1,
                    format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()),
                )
            })
        });
        match &opts.word_list_lang {
            Some(lang) => {
                let lang = builder.lang_id(lang, 1)?;
                for line in lines {
                    let (n, text) = line?;
                    if !text.trim().is_empty() {
                        builder.push(n, lang, text, None, None, None, None)?;
                    }
                }
            }
            None => {
                let header = loop {
                    match lines.next() {
                        Some(line) => {
                            let (n, text) = line?;
                            if !text.trim().is_empty() {
                                break Header::parse(path, n, text)?;
                            }
                        }
                        None => return Err(Error::lexicon(path, 0, "empty file: no header row")),
                    }
                };
                for line in lines {
                    let (n, text) = line?;
                    if text.trim().is_empty() {
                        continue;
                    }
                    let cells: Vec<&str> = text.split('\t').map(str::trim).collect();
                    if cells.len() != header.width {
                        let msg = format!("expected {} tab-separated fields, found {}", header.width, cells.len());
                        return Err(Error::lexicon(path, n, msg));
                    }
                    let cell = |col: Option<usize>| col.map(|c| cells[c]).filter(|s| !s.is_empty());
                    let lang = builder.lang_id(cells[header.lang], n)?;
                    let (concept, field, pos, weight) = (
                        cell(header.concept),
                        cell(header.field),
                        cell(header.pos),
                        cell(header.weight),
                    );
                    builder.push(n, lang, cells[header.word], concept, field, pos, weight)?;
                }
            }
        }
        builder.finish()
    }

    fn empty(path: &Path) -> Lexicon {
        Lexicon {
            source: path.to_path_buf(),
            langs: vec![],
            fields: vec![],
            entries: vec![],
            normalized: 0,
            content_hash: String::new(),
        }
    }

    /// sha256 of the validated content (every entry, in order): what the output depends on.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    pub fn lang_index(&self, code: &str) -> Option<u16> {
        self.langs.iter().position(|l| l == code).map(|i| i as u16)
    }

    /// Number of entries per language, in [`Lexicon::langs`] order.
    pub fn counts_per_lang(&self) -> Vec<usize> {
        let mut counts = vec![0; self.langs.len()];
        for e in &self.entries {
            counts[e.lang as usize] += 1;
        }
        counts
    }
}

struct Header {
    width: usize,
    lang: usize,
    word: usize,
    concept: Option<usize>,
    field: Option<usize>,
    pos: Option<usize>,
    weight: Option<usize>,
}

impl Header {
    fn parse(path: &Path, line: usize, text: &str) -> Result<Header> {
        let names: Vec<String> = text.split('\t').map(|s| s.trim().to_ascii_lowercase()).collect();
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(Error::lexicon(
                    path,
                    line,
                    format!("duplicate column {name:?} in the header"),
                ));
            }
        }
        let find = |name: &str| names.iter().position(|n| n == name);
        let required = |name: &str| {
            find(name).ok_or_else(|| {
                let hint = if names.len() == 1 {
                    " (a plain word list needs its language: --lexicon-lang)"
                } else {
                    ""
                };
                Error::lexicon(
                    path,
                    line,
                    format!("the header has no {name:?} column{hint}; found {names:?}"),
                )
            })
        };
        Ok(Header {
            width: names.len(),
            lang: required("lang")?,
            word: required("word")?,
            concept: find("concept"),
            field: find("field"),
            pos: find("pos"),
            weight: find("weight"),
        })
    }
}

struct Builder<'a> {
    path: &'a Path,
    opts: &'a LoadOptions,
    lexicon: Lexicon,
    lang_ids: HashMap<String, u16>,
    field_ids: HashMap<String, u16>,
}

impl Builder<'_> {
    fn lang_id(&mut self, code: &str, line: usize) -> Result<u16> {
        if let Some(&id) = self.lang_ids.get(code) {
            return Ok(id);
        }
        if !is_language_code(code) {
            let msg = format!("invalid language code {code:?} (expected an ISO 639 code such as en, ru, yue)");
            return Err(Error::lexicon(self.path, line, msg));
        }
        let id = u16::try_from(self.lexicon.langs.len())
            .map_err(|_| Error::lexicon(self.path, line, "too many languages"))?;
        self.lexicon.langs.push(code.to_string());
        self.lang_ids.insert(code.to_string(), id);
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        line: usize,
        lang: u16,
        raw_word: &str,
        concept: Option<&str>,
        field: Option<&str>,
        pos: Option<&str>,
        weight: Option<&str>,
    ) -> Result<()> {
        let err = |reason: String| Error::lexicon(self.path, line, reason);
        let trimmed = raw_word.trim();
        let word = word::validate(trimmed, self.opts.normalization).map_err(err)?;
        if word.len() > MAX_WORD_BYTES {
            return Err(err(format!(
                "word of {} bytes is longer than the limit of {MAX_WORD_BYTES}",
                word.len()
            )));
        }
        if word != trimmed {
            self.lexicon.normalized += 1;
        }
        let concept = concept
            .map(|c| {
                c.parse::<u32>()
                    .map_err(|_| err(format!("concept {c:?} is not a non-negative integer id")))
            })
            .transpose()?;
        let weight = match weight {
            None => 1.0,
            Some(w) => match w.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => x,
                _ => return Err(err(format!("weight {w:?} is not a non-negative number"))),
            },
        };
        let field = match field {
            None => None,
            Some(f) => Some(match self.field_ids.get(f) {
                Some(&id) => id,
                None => {
                    let id = u16::try_from(self.lexicon.fields.len()).map_err(|_| err("too many fields".into()))?;
                    self.lexicon.fields.push(f.to_string());
                    self.field_ids.insert(f.to_string(), id);
                    id
                }
            }),
        };
        let word = word.into_owned();
        let pos = pos.map(str::to_string);
        self.lexicon.entries.push(Entry {
            lang,
            word,
            concept,
            field,
            pos,
            weight,
        });
        Ok(())
    }

    fn finish(mut self) -> Result<Lexicon> {
        if self.lexicon.entries.is_empty() {
            return Err(Error::lexicon(self.path, 0, "the lexicon holds no words"));
        }
        let lex = &self.lexicon;
        let mut h = Sha256::new();
        for e in &lex.entries {
            let field = e.field.map(|f| lex.fields[f as usize].as_str()).unwrap_or("");
            let concept = e.concept.map(|c| c.to_string()).unwrap_or_default();
            let row = format!(
                "{}\t{}\t{}\t{}\t{}\t{:?}\n",
                lex.langs[e.lang as usize],
                e.word,
                concept,
                field,
                e.pos.as_deref().unwrap_or(""),
                e.weight
            );
            h.update(row.as_bytes());
        }
        self.lexicon.content_hash = hex(&h.finalize());
        Ok(self.lexicon)
    }
}

/// `en`, `yue`, or a BCP 47 style tag such as `zh-Hant`.
fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Lexicon> {
        Lexicon::parse(text.as_bytes(), Path::new("t.tsv"), &LoadOptions::default())
    }

    fn parse_err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn reads_all_columns_with_bom_and_crlf() {
        let lex = parse("\u{FEFF}lang\tword\tconcept\tfield\tpos\tweight\textra\r\nru\tвода\t1\tThe physical world\tnoun\t2.5\tx\r\n\r\nen\tsadness\t\t\t\t\t\n").unwrap();
        assert_eq!(lex.langs, ["ru", "en"]);
        assert_eq!(lex.fields, ["The physical world"]);
        assert_eq!(
            lex.entries[0],
            Entry {
                lang: 0,
                word: "вода".into(),
                concept: Some(1),
                field: Some(0),
                pos: Some("noun".into()),
                weight: 2.5
            }
        );
        assert_eq!(
            lex.entries[1],
            Entry {
                lang: 1,
                word: "sadness".into(),
                concept: None,
                field: None,
                pos: None,
                weight: 1.0
            }
        );
    }

    #[test]
    fn word_list_needs_a_language() {
        let opts = LoadOptions {
            word_list_lang: Some("ru".into()),
            ..Default::default()
        };
        let lex = Lexicon::parse("вода\nгрусть\n\nсвет\n".as_bytes(), Path::new("w.txt"), &opts).unwrap();
        assert_eq!(lex.entries.len(), 3);
        assert_eq!(lex.langs, ["ru"]);
        assert!(parse_err("вода\nгрусть\n").contains("--lexicon-lang"));
    }

    #[test]
    fn errors_name_file_line_and_reason() {
        assert_eq!(
            parse_err("lang\tword\nen\tok\nen\tbad word\n"),
            "t.tsv:3: word \"bad word\" contains whitespace (U+0020)"
        );
        assert!(parse_err("lang\tword\nen\ta\u{200D}b\n").starts_with("t.tsv:2: "));
        assert!(parse_err("lang\tword\tweight\nen\ta\t-1\n").contains("t.tsv:2: weight \"-1\""));
        assert!(parse_err("lang\tword\tconcept\nen\ta\tx\n").contains("concept \"x\""));
        assert!(parse_err("lang\tword\nEN\ta\n").contains("invalid language code"));
        assert!(parse_err("lang\tword\nen\n").contains("expected 2 tab-separated fields, found 1"));
        assert!(parse_err("lang\tword\n").contains("no words"));
        assert!(parse_err("").contains("no header"));
        assert!(parse_err("lang\tlang\tword\n").contains("duplicate column"));
        let bad_utf8 = Lexicon::parse(b"lang\tword\nen\t\xff\n", Path::new("t.tsv"), &LoadOptions::default());
        assert!(bad_utf8.unwrap_err().to_string().starts_with("t.tsv:2: invalid UTF-8"));
    }

    #[test]
    fn content_hash_follows_content_not_formatting() {
        let a = parse("lang\tword\nen\tcat\n").unwrap();
        let b = parse("\u{FEFF}word\tlang\r\ncat\ten\r\n").unwrap();
        let c = parse("lang\tword\nen\tdog\n").unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        assert_ne!(a.content_hash(), c.content_hash());
    }

    #[test]
    fn shipped_lexicon_is_valid_and_complete() {
        let lex = Lexicon::default_lexicon();
        let mut langs = lex.langs.clone();
        langs.sort();
        assert_eq!(
            langs,
            ["ar", "cy", "en", "es", "et", "fi", "fr", "he", "pl", "ru", "yue", "zh"]
        );
        assert!(
            lex.counts_per_lang().iter().all(|&n| n > 1000),
            "{:?}",
            lex.counts_per_lang()
        );
        assert!(lex.fields.len() >= 20);
        assert_eq!(lex.normalized, 0, "the shipped lexicon is already NFC");
    }
}
