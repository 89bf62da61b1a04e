//! Turning phrases into Arrow record batches, and the stream of batches of one shard.
//!
//! Buffers are filled directly (offsets and bytes), so the hot path is a copy of each
//! word's bytes. A batch is cut at `batch_words` words or [`MAX_BATCH_TEXT_BYTES`],
//! whichever comes first, so no string array nears Arrow's 2 GiB 32-bit offset limit.

use crate::config::{Column, CorpusConfig};
use crate::fusion::{shard_rng, Fuser};
use crate::generator::{Generator, Scratch};
use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, ListArray, RecordBatch, StringArray, UInt32Array};
use arrow_buffer::{BooleanBufferBuilder, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// A batch is cut once its text reaches this many bytes.
pub const MAX_BATCH_TEXT_BYTES: usize = 256 << 20;

/// The Arrow schema of a corpus with these columns.
pub fn schema(columns: &[Column]) -> SchemaRef {
    let list_of = |name: &str, dt: DataType, nullable: bool| {
        Field::new(name, DataType::List(Arc::new(Field::new("item", dt, nullable))), false)
    };
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| match c {
            Column::Text => Field::new("text", DataType::Utf8, false),
            Column::Words => list_of("words", DataType::Utf8, false),
            Column::Langs => list_of("langs", DataType::Utf8, false),
            Column::Concepts => list_of("concepts", DataType::UInt32, true),
            Column::Field => Field::new("field", DataType::Utf8, true),
            Column::Source => Field::new("source", DataType::Utf8, false),
            Column::Target => Field::new("target", DataType::Utf8, false),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Accumulates phrases into the columns of one record batch.
pub struct BatchBuilder {
    schema: SchemaRef,
    columns: Vec<Column>,
    text: Vec<u8>,
    offsets: Vec<i32>,
    /// Offsets of each row's items, shared by the list columns (every row lists its words);
    /// kept only when there is a list column.
    has_lists: bool,
    list_offsets: Vec<i32>,
    words: Option<Strings>,
    langs: Option<Strings>,
    concepts: Option<(Vec<u32>, BooleanBufferBuilder)>,
    field: Option<StringBuilder>,
    /// Bridge rows: the two sides, kept for the template and for their own columns.
    source: Vec<u8>,
    target: Vec<u8>,
    source_column: Option<StringBuilder>,
    target_column: Option<StringBuilder>,
    pub rows: usize,
    pub word_count: u64,
}

impl BatchBuilder {
    pub fn new(columns: &[Column]) -> Self {
        let has = |c: Column| columns.contains(&c);
        BatchBuilder {
            schema: schema(columns),
            columns: columns.to_vec(),
            text: Vec::new(),
            offsets: vec![0],
            has_lists: has(Column::Words) || has(Column::Langs) || has(Column::Concepts),
            list_offsets: vec![0],
            words: has(Column::Words).then(Strings::default),
            langs: has(Column::Langs).then(Strings::default),
            concepts: has(Column::Concepts).then(|| (Vec::new(), BooleanBufferBuilder::new(0))),
            field: has(Column::Field).then(StringBuilder::new),
            source: Vec::new(),
            target: Vec::new(),
            source_column: has(Column::Source).then(StringBuilder::new),
            target_column: has(Column::Target).then(StringBuilder::new),
            rows: 0,
            word_count: 0,
        }
    }

    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }

    /// The text being built, for the kinds that write a row's text themselves (only when
    /// `text` is the one column); the row ends with [`BatchBuilder::end_row`]. Whatever is
    /// appended must be valid UTF-8 (it is not checked again).
    pub(crate) fn text_mut(&mut self) -> &mut Vec<u8> {
        debug_assert_eq!(self.columns, [Column::Text]);
        &mut self.text
    }

    /// End a row written through [`BatchBuilder::text_mut`], of `words` words.
    pub(crate) fn end_row(&mut self, words: u64) {
        self.offsets.push(self.text.len() as i32);
        self.rows += 1;
        self.word_count += words;
    }

    #[inline]
    pub fn push(&mut self, f: &Fuser, ids: &[u32]) {
        match f.template() {
            None => f.write_text(ids, &mut self.text),
            Some(template) => {
                self.source.clear();
                self.target.clear();
                f.write_text(ids, &mut self.source);
                f.write_target(ids, &mut self.target);
                template.render(&self.source, &self.target, &mut self.text);
                // SAFETY (both): whole validated words, joiners and spaces: valid UTF-8.
                if let Some(b) = &mut self.source_column {
                    b.append_value(unsafe { std::str::from_utf8_unchecked(&self.source) });
                }
                if let Some(b) = &mut self.target_column {
                    b.append_value(unsafe { std::str::from_utf8_unchecked(&self.target) });
                }
            }
        }
        self.offsets.push(self.text.len() as i32);
        if let Some(w) = &mut self.words {
            ids.iter().for_each(|&id| w.push(f.word(id)));
        }
        if let Some(l) = &mut self.langs {
            ids.iter().for_each(|&id| l.push(f.lang_code(id).as_bytes()));
        }
        if let Some((values, valid)) = &mut self.concepts {
            for &id in ids {
                let concept = f.concept(id);
                values.push(concept.unwrap_or(0));
                valid.append(concept.is_some());
            }
        }
        if self.has_lists {
            let items = self.list_offsets.last().copied().unwrap_or(0) + ids.len() as i32;
            self.list_offsets.push(items);
        }
        if let Some(b) = &mut self.field {
            b.append_option(ids.first().and_then(|&id| f.field_name(id)));
        }
        self.rows += 1;
        self.word_count += ids.len() as u64;
    }

    /// Take the accumulated rows as a record batch and start afresh, with buffers sized
    /// like this batch's (so the next one grows without copying).
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let capacity = self.text.capacity();
        let text = std::mem::replace(&mut self.text, Vec::with_capacity(capacity));
        let mut next_offsets = Vec::with_capacity(self.offsets.capacity());
        next_offsets.push(0);
        let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(&mut self.offsets, next_offsets)));
        // SAFETY: offsets start at 0 and only grow (each is the text length after a row), and
        // the bytes are whole validated lexicon words and joiners (Dyck symbols; words of a
        // valid UTF-8 source split at whitespace, and spaces), so valid UTF-8 that every
        // offset cuts at a row boundary. Skipping re-validation saves ~10% of generation.
        let text: ArrayRef = Arc::new(unsafe { StringArray::new_unchecked(offsets, Buffer::from_vec(text), None) });
        let list_offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(&mut self.list_offsets, vec![0])));
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            arrays.push(match c {
                Column::Text => text.clone(),
                Column::Words => list(
                    &list_offsets,
                    DataType::Utf8,
                    false,
                    self.words.as_mut().expect("words").take(),
                )?,
                Column::Langs => list(
                    &list_offsets,
                    DataType::Utf8,
                    false,
                    self.langs.as_mut().expect("langs").take(),
                )?,
                Column::Concepts => {
                    let (values, valid) = self.concepts.as_mut().expect("concepts");
                    let nulls = NullBuffer::new(valid.finish());
                    let values = UInt32Array::new(ScalarBuffer::from(std::mem::take(values)), Some(nulls));
                    list(&list_offsets, DataType::UInt32, true, Arc::new(values))?
                }
                Column::Field => Arc::new(self.field.as_mut().expect("field builder").finish()),
                Column::Source => Arc::new(self.source_column.as_mut().expect("source builder").finish()),
                Column::Target => Arc::new(self.target_column.as_mut().expect("target builder").finish()),
            });
        }
        self.rows = 0;
        self.word_count = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
    }
}

fn item(dt: DataType, nullable: bool) -> Arc<Field> {
    Arc::new(Field::new("item", dt, nullable))
}

/// A list column over `values`, one list per row.
fn list(offsets: &OffsetBuffer<i32>, dt: DataType, nullable: bool, values: ArrayRef) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(ListArray::try_new(
        item(dt, nullable),
        offsets.clone(),
        values,
        None,
    )?))
}

/// The bytes and offsets of a string array being built.
#[derive(Default)]
struct Strings {
    bytes: Vec<u8>,
    offsets: Vec<i32>,
}

impl Strings {
    #[inline]
    fn push(&mut self, value: &[u8]) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.bytes.extend_from_slice(value);
        self.offsets.push(self.bytes.len() as i32);
    }

    fn take(&mut self) -> ArrayRef {
        let mut offsets = std::mem::take(&mut self.offsets);
        if offsets.is_empty() {
            offsets.push(0);
        }
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        let bytes = Buffer::from_vec(std::mem::take(&mut self.bytes));
        // SAFETY: every value pushed is a whole validated word or language code (valid UTF-8),
        // and the offsets start at 0 and grow with each push.
        Arc::new(unsafe { StringArray::new_unchecked(offsets, bytes, None) })
    }
}

/// The record batches of one shard, generated lazily: rows (phrases, sequences, documents)
/// are drawn until the shard's target word count is reached (the last row may pass it).
pub struct ShardBatches {
    generator: Generator,
    builder: BatchBuilder,
    rng: ChaCha8Rng,
    scratch: Scratch,
    remaining: u64,
    batch_words: u64,
}

impl ShardBatches {
    /// Shard `shard` of the corpus `cfg` drawn by `generator` (a [`Generator`], or the
    /// `Arc<Fuser>` of a mnemophrase or bridge corpus).
    pub fn new(generator: impl Into<Generator>, cfg: &CorpusConfig, shard: u64) -> Self {
        ShardBatches {
            generator: generator.into(),
            builder: BatchBuilder::new(&cfg.columns),
            rng: shard_rng(cfg.seed, shard),
            scratch: Scratch::default(),
            remaining: cfg.shard_target(shard),
            batch_words: cfg.batch_words,
        }
    }
}

/// One generated batch and what it holds.
pub struct Batch {
    pub batch: RecordBatch,
    pub words: u64,
    pub text_bytes: u64,
}

impl Iterator for ShardBatches {
    type Item = Result<Batch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let limit = self.batch_words.min(self.remaining);
        while self.builder.word_count < limit && self.builder.text_bytes() < MAX_BATCH_TEXT_BYTES {
            self.generator
                .push_row(&mut self.rng, &mut self.scratch, &mut self.builder);
        }
        let (words, text_bytes) = (self.builder.word_count, self.builder.text_bytes() as u64);
        self.remaining = self.remaining.saturating_sub(words);
        Some(self.builder.finish().map(|batch| Batch {
            batch,
            words,
            text_bytes,
        }))
    }
}
