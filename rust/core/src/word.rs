//! What counts as a word, and how words are cased.
//!
//! A word is non-empty, in Unicode NFC, and free of whitespace and of control or format
//! characters, so that fusing words never produces invisible or ambiguous text.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// What to do with a word that is not in NFC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalization {
    /// Normalise it to NFC (the default).
    #[default]
    Nfc,
    /// Reject it with the reason.
    Strict,
}

/// Characters no word may contain: C0/C1 controls, zero-width and direction marks, word joiner, BOM.
pub fn is_forbidden_char(c: char) -> bool {
    matches!(c as u32, 0x00..=0x1F | 0x7F..=0x9F | 0x200B..=0x200F | 0x2060 | 0xFEFF)
}

/// Validate one word (already trimmed), returning it in NFC.
pub fn validate(word: &str, normalization: Normalization) -> Result<Cow<'_, str>, String> {
    if word.is_empty() {
        return Err("empty word".into());
    }
    for c in word.chars() {
        if is_forbidden_char(c) {
            return Err(format!(
                "word {word:?} contains the control or format character U+{:04X}",
                c as u32
            ));
        }
        if c.is_whitespace() {
            return Err(format!("word {word:?} contains whitespace (U+{:04X})", c as u32));
        }
    }
    let nfc = match is_nfc_quick(word.chars()) {
        IsNormalized::Yes => return Ok(Cow::Borrowed(word)),
        _ => word.nfc().collect::<String>(),
    };
    if nfc == word {
        Ok(Cow::Borrowed(word))
    } else if normalization == Normalization::Nfc {
        Ok(Cow::Owned(nfc))
    } else {
        Err(format!("word {word:?} is not in Unicode NFC (NFC form: {nfc:?})"))
    }
}

/// How each word is cased in the generated text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Case {
    /// As written in the lexicon.
    #[default]
    #[serde(rename = "as-is")]
    AsIs,
    Lower,
    /// Each word title-cased: first character upper-case, the rest lower-case.
    Title,
    Upper,
}

impl Case {
    /// Apply the casing to one word; the result is in NFC again.
    pub fn apply(self, word: &str) -> String {
        let cased = match self {
            Case::AsIs => return word.to_string(),
            Case::Lower => word.to_lowercase(),
            Case::Upper => word.to_uppercase(),
            Case::Title => {
                let mut chars = word.chars();
                let first = chars
                    .next()
                    .map(|c| c.to_uppercase().collect::<String>())
                    .unwrap_or_default();
                first + &chars.as_str().to_lowercase()
            }
        };
        cased.nfc().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_words_in_every_script() {
        for w in ["вода", "sadness", "lumière", "水", "מים", "ماء", "dŵr"] {
            assert_eq!(validate(w, Normalization::Strict).unwrap(), w);
        }
    }

    #[test]
    fn normalises_or_rejects_decomposed_text() {
        let decomposed = "lumie\u{300}re";
        assert_eq!(validate(decomposed, Normalization::Nfc).unwrap(), "lumière");
        let err = validate(decomposed, Normalization::Strict).unwrap_err();
        assert!(err.contains("NFC"), "{err}");
    }

    #[test]
    fn rejects_forbidden_characters() {
        for (w, needle) in [
            ("a\u{200B}b", "U+200B"),
            ("a\u{0085}b", "U+0085"),
            ("a\u{FEFF}", "U+FEFF"),
            ("a\u{2060}b", "U+2060"),
            ("a b", "whitespace"),
            ("a\u{3000}b", "whitespace"),
            ("", "empty"),
        ] {
            let err = validate(w, Normalization::Nfc).unwrap_err();
            assert!(err.contains(needle), "{w:?}: {err}");
        }
    }

    #[test]
    fn casing() {
        assert_eq!(Case::Title.apply("вОДА"), "Вода");
        assert_eq!(Case::Upper.apply("straße"), "STRASSE");
        assert_eq!(
            Case::Lower.apply("\u{39F}\u{394}\u{39F}\u{3A3}"),
            "\u{3BF}\u{3B4}\u{3BF}\u{3C2}"
        ); // final sigma
        assert_eq!(Case::AsIs.apply("Corte"), "Corte");
    }
}
