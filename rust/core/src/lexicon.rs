//! Loading and validating lexicons.
//!
//! Two formats:
//! - a UTF-8 TSV with a header row; required columns `lang` and `word`, optional `concept`
//!   (a non-negative integer id), `field`, `pos` and `weight` (a non-negative number, 1 when
//!   empty); other columns are ignored;
//! - a plain word list, one word per line, whose language the caller names.
//!
//! A UTF-8 BOM and CRLF line endings are accepted, blank lines skipped and cells trimmed.
//! Any bad line fails the whole load with the file, the line number and the reason;
//! [`Lexicon::check`], the collecting mode of the same reading, goes on and returns every
//! problem with its line (what `hyperword lexicon check` reports).

use crate::error::{Error, IoContext, Result};
use crate::word::{self, Normalization};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
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
        let mut reader = Reader::new(path, opts, Some(Builder::new(path)));
        reader.read(bytes)?;
        let normalized = reader.check.normalized.len();
        let builder = reader.build.expect("a loading reader builds");
        Ok(builder.finish(normalized))
    }

    /// The collecting mode of the loader: read `bytes` as [`Lexicon::parse`] does, but go on
    /// past each problem and return them all, each with its line, with the rows the loader
    /// accepts. Without a NUL byte, the first problem is exactly the error `parse` returns
    /// (and there is none exactly when `parse` succeeds); a NUL byte is reported alone, as
    /// binary data.
    pub fn check(bytes: &[u8], opts: &LoadOptions) -> Check {
        let mut reader = Reader::new(Path::new(""), opts, None);
        reader
            .read(bytes)
            .expect("a collecting reader records problems instead of failing");
        let mut check = reader.check;
        let langs: HashSet<&str> = check.valid.iter().map(|r| r.lang.as_str()).collect();
        let fields: HashSet<&str> = check.valid.iter().filter_map(|r| r.field.as_deref()).collect();
        let mut late = vec![];
        for (what, n) in [("languages", langs.len()), ("fields", fields.len())] {
            if n > MAX_IDS {
                late.push(Problem {
                    line: 0,
                    message: format!("too many {what} ({n}; at most {MAX_IDS})"),
                });
            }
        }
        check.problems.extend(late);
        check.problems.sort_by_key(|p| p.line);
        check
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

/// One problem the collecting mode found: its line (0 for the file as a whole) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

/// One row the loader accepts, as the collecting mode returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    pub lang: String,
    /// In NFC.
    pub word: String,
    pub concept: Option<u32>,
    pub field: Option<String>,
    pub pos: Option<String>,
    /// None when the cell is empty or there is no `weight` column (1 on load).
    pub weight: Option<f64>,
    /// Every cell of the line, trimmed, ignored columns included (the word as written).
    pub cells: Vec<String>,
}

/// A word that NFC normalisation changes on load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    pub line: usize,
    /// As written (trimmed).
    pub word: String,
    pub nfc: String,
}

/// What the collecting mode ([`Lexicon::check`]) finds in a lexicon file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Check {
    /// The header's column names as the loader reads them (trimmed, ASCII lower-case); empty
    /// for a plain word list or a file whose header could not be read.
    pub columns: Vec<String>,
    /// The same names as written (trimmed).
    pub header: Vec<String>,
    /// Non-blank lines after the header (every non-blank line of a word list), undecodable
    /// ones included.
    pub rows: usize,
    /// The rows without a problem, in file order.
    pub valid: Vec<Row>,
    /// Words NFC normalisation changes, in rows with problems too.
    pub normalized: Vec<Normalized>,
    /// Every problem, by line (stable: in the loader's order within a line).
    pub problems: Vec<Problem>,
}

impl Check {
    /// Whether the loader accepts the file.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The ids of languages and fields are u16.
const MAX_IDS: usize = u16::MAX as usize + 1;

struct Header {
    width: usize,
    lang: usize,
    word: usize,
    concept: Option<usize>,
    field: Option<usize>,
    pos: Option<usize>,
    weight: Option<usize>,
}

/// The one reading of a lexicon file. Loading (`build` set), the first problem is the error
/// and accepted rows go into the lexicon; checking, every problem is recorded and reading
/// goes on.
struct Reader<'a> {
    path: &'a Path,
    opts: &'a LoadOptions,
    build: Option<Builder>,
    accepted: usize,
    check: Check,
}

impl<'a> Reader<'a> {
    fn new(path: &'a Path, opts: &'a LoadOptions, build: Option<Builder>) -> Self {
        Reader {
            path,
            opts,
            build,
            accepted: 0,
            check: Check::default(),
        }
    }

    /// A problem at `line`: the error when loading, recorded when checking.
    fn problem(&mut self, line: usize, message: impl Into<String>) -> Result<()> {
        if self.build.is_some() {
            return Err(Error::lexicon(self.path, line, message));
        }
        self.check.problems.push(Problem {
            line,
            message: message.into(),
        });
        Ok(())
    }

    fn read(&mut self, bytes: &[u8]) -> Result<()> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if self.build.is_none() {
            if let Some(nul) = bytes.iter().position(|&b| b == 0) {
                let line = bytes[..nul].iter().filter(|&&b| b == b'\n').count() + 1;
                return self.problem(line, "binary data (a NUL byte): not a text lexicon");
            }
        }
        let mut lines = bytes.split(|&b| b == b'\n').enumerate().map(|(i, raw)| {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let text =
                std::str::from_utf8(raw).map_err(|e| format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()));
            (i + 1, text)
        });
        match &self.opts.word_list_lang {
            Some(lang) => {
                let lang_ok = self.language(1, lang)?;
                for (n, line) in lines {
                    let Some(text) = self.text(n, line)? else { continue };
                    if let (Some(word), true) = (self.word(n, text)?, lang_ok) {
                        let row = Accepted {
                            line: n,
                            lang,
                            word,
                            concept: None,
                            field: None,
                            pos: None,
                            weight: None,
                            cells: &[text.trim()],
                        };
                        self.accept(row)?;
                    }
                }
            }
            None => {
                let (n, text) = loop {
                    match lines.next() {
                        Some((_, Ok(text))) if text.trim().is_empty() => continue,
                        Some((n, Ok(text))) => break (n, text),
                        Some((n, Err(reason))) => return self.problem(n, reason),
                        None => return self.problem(0, "empty file: no header row"),
                    }
                };
                let Some(header) = self.header(n, text)? else {
                    return Ok(());
                };
                for (n, line) in lines {
                    let Some(text) = self.text(n, line)? else { continue };
                    let cells: Vec<&str> = text.split('\t').map(str::trim).collect();
                    if cells.len() != header.width {
                        let msg = format!("expected {} tab-separated fields, found {}", header.width, cells.len());
                        self.problem(n, msg)?;
                        continue;
                    }
                    let cell = |col: Option<usize>| col.map(|c| cells[c]).filter(|s| !s.is_empty());
                    let (concept, field, pos, weight) = (
                        cell(header.concept),
                        cell(header.field),
                        cell(header.pos),
                        cell(header.weight),
                    );
                    let (lang, word) = (cells[header.lang], cells[header.word]);
                    self.row(n, lang, word, concept, field, pos, weight, &cells)?;
                }
            }
        }
        if self.check.problems.is_empty() && self.accepted == 0 {
            self.problem(0, "the lexicon holds no words")?;
        }
        Ok(())
    }

    /// A line after the header: None when blank or undecodable (then a problem), both
    /// skipped; undecodable and non-blank lines count as rows.
    fn text<'t>(&mut self, n: usize, line: std::result::Result<&'t str, String>) -> Result<Option<&'t str>> {
        match line {
            Err(reason) => {
                self.check.rows += 1;
                self.problem(n, reason)?;
                Ok(None)
            }
            Ok(text) if text.trim().is_empty() => Ok(None),
            Ok(text) => {
                self.check.rows += 1;
                Ok(Some(text))
            }
        }
    }

    /// The header row: None (after its problems) when `lang` or `word` is missing.
    fn header(&mut self, line: usize, text: &str) -> Result<Option<Header>> {
        let header: Vec<&str> = text.split('\t').map(str::trim).collect();
        let names: Vec<String> = header.iter().map(|s| s.to_ascii_lowercase()).collect();
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                self.problem(line, format!("duplicate column {name:?} in the header"))?;
            }
        }
        let find = |name: &str| names.iter().position(|n| n == name);
        let mut missing = false;
        for name in ["lang", "word"] {
            if find(name).is_none() {
                missing = true;
                let hint = if names.len() == 1 {
                    " (a plain word list needs its language: --lexicon-lang)"
                } else {
                    ""
                };
                self.problem(
                    line,
                    format!("the header has no {name:?} column{hint}; found {names:?}"),
                )?;
            }
        }
        let found = Header {
            width: names.len(),
            lang: find("lang").unwrap_or(0),
            word: find("word").unwrap_or(0),
            concept: find("concept"),
            field: find("field"),
            pos: find("pos"),
            weight: find("weight"),
        };
        self.check.columns = names;
        self.check.header = header.into_iter().map(str::to_string).collect();
        Ok((!missing).then_some(found))
    }

    /// Whether `code` is a valid language code (a problem when not); loading, it gets its id.
    fn language(&mut self, line: usize, code: &str) -> Result<bool> {
        if !is_language_code(code) {
            let msg = format!("invalid language code {code:?} (expected an ISO 639 code such as en, ru, yue)");
            self.problem(line, msg)?;
            return Ok(false);
        }
        if let Some(b) = &mut self.build {
            b.lang_id(self.path, code, line)?;
        }
        Ok(true)
    }

    /// The word, validated and in NFC; None (after the problem) when invalid.
    fn word(&mut self, line: usize, raw: &str) -> Result<Option<String>> {
        let trimmed = raw.trim();
        match validate_word(trimmed, self.opts.normalization) {
            Err(reason) => {
                self.problem(line, reason)?;
                Ok(None)
            }
            Ok(word) => {
                if word != trimmed {
                    self.check.normalized.push(Normalized {
                        line,
                        word: trimmed.to_string(),
                        nfc: word.to_string(),
                    });
                }
                Ok(Some(word.into_owned()))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        line: usize,
        lang: &str,
        raw_word: &str,
        concept: Option<&str>,
        field: Option<&str>,
        pos: Option<&str>,
        weight: Option<&str>,
        cells: &[&str],
    ) -> Result<()> {
        let before = self.check.problems.len();
        let lang_ok = self.language(line, lang)?;
        let word = self.word(line, raw_word)?;
        let concept = match concept.map(|c| (c, parse_concept(c))) {
            Some((_, Ok(c))) => Some(c),
            Some((_, Err(reason))) => {
                self.problem(line, reason)?;
                None
            }
            None => None,
        };
        let weight = match weight.map(parse_weight) {
            Some(Ok(w)) => Some(w),
            Some(Err(reason)) => {
                self.problem(line, reason)?;
                None
            }
            None => None,
        };
        match word {
            Some(word) if lang_ok && self.check.problems.len() == before => {
                let row = Accepted {
                    line,
                    lang,
                    word,
                    concept,
                    field,
                    pos,
                    weight,
                    cells,
                };
                self.accept(row)
            }
            _ => Ok(()),
        }
    }

    /// A row without a problem: into the lexicon when loading, into the report when checking.
    fn accept(&mut self, row: Accepted<'_>) -> Result<()> {
        self.accepted += 1;
        match &mut self.build {
            Some(b) => b.push(self.path, row),
            None => {
                self.check.valid.push(Row {
                    line: row.line,
                    lang: row.lang.to_string(),
                    word: row.word,
                    concept: row.concept,
                    field: row.field.map(str::to_string),
                    pos: row.pos.map(str::to_string),
                    weight: row.weight,
                    cells: row.cells.iter().map(|c| c.to_string()).collect(),
                });
                Ok(())
            }
        }
    }
}

/// A row without a problem, its cells read, borrowing the line.
struct Accepted<'t> {
    line: usize,
    lang: &'t str,
    word: String,
    concept: Option<u32>,
    field: Option<&'t str>,
    pos: Option<&'t str>,
    weight: Option<f64>,
    cells: &'t [&'t str],
}

/// A lexicon being loaded: its language and field ids.
struct Builder {
    lexicon: Lexicon,
    lang_ids: HashMap<String, u16>,
    field_ids: HashMap<String, u16>,
}

/// The id of `name` in `names`, added when new; None past u16.
fn intern(names: &mut Vec<String>, ids: &mut HashMap<String, u16>, name: &str) -> Option<u16> {
    if let Some(&id) = ids.get(name) {
        return Some(id);
    }
    let id = u16::try_from(names.len()).ok()?;
    names.push(name.to_string());
    ids.insert(name.to_string(), id);
    Some(id)
}

impl Builder {
    fn new(path: &Path) -> Self {
        Builder {
            lexicon: Lexicon::empty(path),
            lang_ids: HashMap::new(),
            field_ids: HashMap::new(),
        }
    }

    fn lang_id(&mut self, path: &Path, code: &str, line: usize) -> Result<u16> {
        intern(&mut self.lexicon.langs, &mut self.lang_ids, code)
            .ok_or_else(|| Error::lexicon(path, line, "too many languages"))
    }

    fn push(&mut self, path: &Path, row: Accepted<'_>) -> Result<()> {
        let line = row.line;
        let lang = self.lang_id(path, row.lang, line)?;
        let field = match row.field {
            None => None,
            Some(f) => Some(
                intern(&mut self.lexicon.fields, &mut self.field_ids, f)
                    .ok_or_else(|| Error::lexicon(path, line, "too many fields"))?,
            ),
        };
        self.lexicon.entries.push(Entry {
            lang,
            word: row.word,
            concept: row.concept,
            field,
            pos: row.pos.map(str::to_string),
            weight: row.weight.unwrap_or(1.0),
        });
        Ok(())
    }

    fn finish(mut self, normalized: usize) -> Lexicon {
        self.lexicon.normalized = normalized;
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
        self.lexicon
    }
}

/// Validate one word (already trimmed) as the loader does: returns it in NFC (or, with
/// [`Normalization::Strict`], refuses a word not in NFC), within [`MAX_WORD_BYTES`].
pub fn validate_word(word: &str, normalization: Normalization) -> std::result::Result<Cow<'_, str>, String> {
    let word = word::validate(word, normalization)?;
    if word.len() > MAX_WORD_BYTES {
        return Err(format!(
            "word of {} bytes is longer than the limit of {MAX_WORD_BYTES}",
            word.len()
        ));
    }
    Ok(word)
}

/// A `concept` cell: a non-negative integer id (u32).
pub fn parse_concept(text: &str) -> std::result::Result<u32, String> {
    text.parse::<u32>()
        .map_err(|_| format!("concept {text:?} is not a non-negative integer id"))
}

/// A `weight` cell: a finite non-negative number.
pub fn parse_weight(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("weight {text:?} is not a non-negative number")),
    }
}

/// `en`, `yue`, or a BCP 47 style tag such as `zh-Hant`.
pub fn is_language_code(code: &str) -> bool {
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

    fn check(text: &[u8]) -> Check {
        Lexicon::check(text, &LoadOptions::default())
    }

    fn lines_and_messages(c: &Check) -> Vec<(usize, &str)> {
        c.problems.iter().map(|p| (p.line, p.message.as_str())).collect()
    }

    /// The collecting mode's first problem is the loader's error, line and reason.
    fn assert_first_is_the_error(bytes: &[u8], opts: &LoadOptions) {
        let c = Lexicon::check(bytes, opts);
        match Lexicon::parse(bytes, Path::new("t.tsv"), opts) {
            Ok(lex) => {
                assert!(c.ok(), "{:?}", c.problems);
                assert_eq!(c.valid.len(), lex.entries.len());
                assert_eq!(c.normalized.len(), lex.normalized);
            }
            Err(e) => {
                let first = c.problems.first().expect("a problem where the loader fails");
                assert_eq!(e.to_string(), format!("t.tsv:{}: {}", first.line, first.message));
            }
        }
    }

    #[test]
    fn check_reports_every_problem_with_its_line() {
        let text = b"lang\tword\tconcept\tweight\tnote\r\n\
            en\twater\t1\t2\tfine\r\n\
            en\ttwo words\t2\t1\twhitespace\r\n\
            EN\tfire\tx\t-1\tthree problems\r\n\
            en\tjoy\r\n\
            en\tbad\xff\t6\t1\tinvalid UTF-8\r\n\
            \r\n\
            en\tlumie\xcc\x80re\t7\t1\tnot NFC\r\n\
            en\twater\t1\tnan\tbad weight\r\n";
        let c = check(text);
        assert_eq!(
            lines_and_messages(&c),
            [
                (3, "word \"two words\" contains whitespace (U+0020)"),
                (
                    4,
                    "invalid language code \"EN\" (expected an ISO 639 code such as en, ru, yue)"
                ),
                (4, "concept \"x\" is not a non-negative integer id"),
                (4, "weight \"-1\" is not a non-negative number"),
                (5, "expected 5 tab-separated fields, found 2"),
                (6, "invalid UTF-8 at byte 6 of the line"),
                (9, "weight \"nan\" is not a non-negative number"),
            ]
        );
        assert_eq!(c.columns, ["lang", "word", "concept", "weight", "note"]);
        assert_eq!((c.rows, c.valid.len()), (7, 2));
        assert_eq!(c.valid.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 8]);
        assert_eq!(
            c.valid[0],
            Row {
                line: 2,
                lang: "en".into(),
                word: "water".into(),
                concept: Some(1),
                field: None,
                pos: None,
                weight: Some(2.0),
                cells: ["en", "water", "1", "2", "fine"].map(String::from).to_vec(),
            }
        );
        assert_eq!(
            c.normalized,
            [Normalized {
                line: 8,
                word: "lumie\u{300}re".into(),
                nfc: "lumière".into()
            }]
        );
        assert_first_is_the_error(text, &LoadOptions::default());
    }

    #[test]
    fn check_header_and_file_problems() {
        type Case<'a> = (&'a [u8], &'a [(usize, &'a str)]);
        let cases: [Case; 7] = [
            (b"", &[(0, "empty file: no header row")]),
            (b"\n \r\n", &[(0, "empty file: no header row")]),
            (b"lang\tword\n\n", &[(0, "the lexicon holds no words")]),
            (
                b"Word\tword\tlemma\nen\tx\ty\n",
                &[
                    (1, "duplicate column \"word\" in the header"),
                    (
                        1,
                        "the header has no \"lang\" column; found [\"word\", \"word\", \"lemma\"]",
                    ),
                ],
            ),
            (
                b"\nlang\tlang\tword\tword\nen\ten\tx\t\n",
                &[
                    (2, "duplicate column \"lang\" in the header"),
                    (2, "duplicate column \"word\" in the header"),
                ],
            ),
            (b"lang\tword\n\xc3\n", &[(2, "invalid UTF-8 at byte 0 of the line")]),
            (
                b"\xef\xbb\xbflang\tword\nen\ta\x00\n",
                &[(2, "binary data (a NUL byte): not a text lexicon")],
            ),
        ];
        for (text, problems) in cases {
            let c = check(text);
            assert_eq!(lines_and_messages(&c), problems, "{:?}", String::from_utf8_lossy(text));
            if !text.contains(&0) {
                assert_first_is_the_error(text, &LoadOptions::default());
            }
        }
        let c = check(b" Lang \tWORD\tGloss\nen\t a \t x y \n");
        assert_eq!(c.header, ["Lang", "WORD", "Gloss"]);
        assert_eq!(c.columns, ["lang", "word", "gloss"]);
        assert_eq!(c.valid[0].cells, ["en", "a", "x y"]);
        // Rows are read past a duplicate column (the first of the name is used).
        let c = check(b"lang\tword\tword\nen\ta\tb\n");
        assert_eq!((c.valid.len(), c.valid[0].word.as_str()), (1, "a"));
        // A header that cannot be decoded ends the reading.
        assert_eq!(
            lines_and_messages(&check(b"\xfflang\tword\nEN\ta b\n")),
            [(1, "invalid UTF-8 at byte 0 of the line")]
        );
    }

    #[test]
    fn check_word_list() {
        let opts = |lang: &str| LoadOptions {
            word_list_lang: Some(lang.into()),
            ..Default::default()
        };
        let text = "вода\nдва слова\n\n\u{200b}\nсвет\n".as_bytes();
        let c = Lexicon::check(text, &opts("ru"));
        assert_eq!(
            lines_and_messages(&c),
            [
                (2, "word \"два слова\" contains whitespace (U+0020)"),
                (4, "word \"\\u{200b}\" contains the control or format character U+200B"),
            ]
        );
        assert_eq!((c.rows, c.valid.len(), c.columns.len()), (4, 2, 0));
        // A bad language is one problem, at line 1, and no row is valid; the words are still checked.
        let c = Lexicon::check(text, &opts("RU"));
        assert_eq!(c.problems.len(), 3);
        assert!(c.problems[0].line == 1 && c.problems[0].message.starts_with("invalid language code \"RU\""));
        assert!(c.valid.is_empty());
        for lang in ["ru", "RU"] {
            assert_first_is_the_error(text, &opts(lang));
        }
    }

    #[test]
    fn check_counts_ids_past_u16_as_the_file_s_problem() {
        let mut text = String::from("lang\tword\tfield\n");
        for i in 0..=MAX_IDS {
            text.push_str(&format!("en\tw\tf{i}\n"));
        }
        let c = check(text.as_bytes());
        assert_eq!(lines_and_messages(&c), [(0, "too many fields (65537; at most 65536)")]);
        let e = Lexicon::parse(text.as_bytes(), Path::new("t.tsv"), &LoadOptions::default()).unwrap_err();
        assert_eq!(e.to_string(), format!("t.tsv:{}: too many fields", MAX_IDS + 2));
    }

    proptest::proptest! {
        /// Every line with a problem is reported, and the first problem is the loader's error.
        #[test]
        fn check_agrees_with_the_loader(
            header in proptest::collection::vec(
                proptest::sample::select(vec!["lang", "word", "concept", "weight", "field", "pos", "gloss", "LANG", " Word "]),
                1..5,
            ),
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "en", "ru", "EN", "yue", "zh-Hant", "e", "water", "вода", "水", "a b", "a\u{200b}b",
                        "lumie\u{300}re", "", " x ", "1", "+2", "-1", "4294967296", "1.5", "inf", "nan", "1e3",
                        ".5", "x", "\u{3000}", "a\u{1}", "\u{ff}\u{fe}",
                    ]),
                    1..5,
                ),
                0..6,
            ),
            crlf in proptest::bool::ANY,
            word_list in proptest::option::of(proptest::sample::select(vec!["ru", "Ru"])),
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = header.join("\t");
            for r in &rows {
                text.push_str(eol);
                text.push_str(&r.join("\t"));
            }
            let opts = LoadOptions { word_list_lang: word_list.map(str::to_string), ..Default::default() };
            assert_first_is_the_error(text.as_bytes(), &opts);
            let c = Lexicon::check(text.as_bytes(), &opts);
            // Past the header (or a word list's language), each line with a problem fails the
            // loader on its own with its first one: no problem is invented or misplaced.
            if c.problems.iter().all(|p| p.line > 1) {
                for p in &c.problems {
                    let line = text.split('\n').nth(p.line - 1).unwrap().trim_end_matches('\r');
                    let (alone, n) = match &opts.word_list_lang {
                        Some(_) => (line.to_string(), 1),
                        None => (format!("{}\n{line}\n", header.join("\t")), 2),
                    };
                    let e = Lexicon::parse(alone.as_bytes(), Path::new("t.tsv"), &opts).unwrap_err();
                    let first = c.problems.iter().find(|q| q.line == p.line).unwrap();
                    proptest::prop_assert_eq!(e.to_string(), format!("t.tsv:{n}: {}", first.message));
                }
            }
        }
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
