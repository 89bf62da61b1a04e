//! Writing one shard: Arrow IPC file (or Parquet) to a temporary name, hashed as it is
//! written, synced, then renamed into place, so a visible shard is always complete.

use crate::batch::{schema, ShardBatches};
use crate::config::{Compression, CorpusConfig, Format};
use crate::control::Control;
use crate::error::{Error, IoContext, Result};
use crate::generator::Generator;
use crate::lexicon::hex;
use arrow_array::RecordBatch;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use arrow_ipc::CompressionType;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as PqCompression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

/// What the manifest records of one shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: u64,
    /// File name, relative to the corpus directory.
    pub path: String,
    pub rows: u64,
    pub words: u64,
    /// UTF-8 bytes of the `text` column (of the fused phrases, whether stored or not).
    pub text_bytes: u64,
    /// File size.
    pub bytes: u64,
    pub sha256: String,
}

pub fn shard_file_name(index: u64, format: Format) -> String {
    let ext = match format {
        Format::Arrow => "arrow",
        Format::Parquet => "parquet",
    };
    format!("shard-{index:05}.{ext}")
}

/// The temporary name a shard is written under; hidden, so readers of the directory skip it.
pub fn temp_file_name(index: u64, format: Format) -> String {
    format!(".{}.tmp", shard_file_name(index, format))
}

/// A configuration error naming the first of `indices` that is not a shard of `cfg`.
pub fn check_indices(cfg: &CorpusConfig, indices: &[u64]) -> Result<()> {
    match indices.iter().find(|&&i| i >= cfg.shard_count()) {
        Some(i) => Err(Error::config(format!(
            "shard {i} does not exist: the corpus has {} shards",
            cfg.shard_count()
        ))),
        None => Ok(()),
    }
}

/// Generate shard `index` of the corpus into `dir` with `generator` (a [`Generator`], or the
/// `&Arc<Fuser>` of a mnemophrase or bridge corpus).
pub fn write_shard(
    dir: &Path,
    generator: impl Into<Generator>,
    cfg: &CorpusConfig,
    index: u64,
    control: &Control,
) -> Result<ShardInfo> {
    let name = shard_file_name(index, cfg.format);
    let tmp = dir.join(temp_file_name(index, cfg.format));
    let dest = dir.join(&name);
    let result = write_to(&tmp, generator.into(), cfg, index, control);
    let (rows, words, text_bytes, bytes, sha256) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            // Name the shard, not its hidden temporary (gone now): "DIR/shard-00003.arrow: No space left on device".
            return Err(match e {
                Error::Io { path, source } if path == tmp => Error::Io { path: dest, source },
                other => other,
            });
        }
    };
    std::fs::rename(&tmp, &dest).at(&dest)?;
    Ok(ShardInfo {
        index,
        path: name,
        rows,
        words,
        text_bytes,
        bytes,
        sha256,
    })
}

type Written = (u64, u64, u64, u64, String);

fn write_to(tmp: &Path, generator: Generator, cfg: &CorpusConfig, index: u64, control: &Control) -> Result<Written> {
    let file = File::create(tmp).at(tmp)?;
    let sink = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    let mut writer = ShardWriter::new(sink, cfg).map_err(|e| e.at_path(tmp))?;
    let (mut rows, mut words, mut text_bytes) = (0u64, 0u64, 0u64);
    for batch in ShardBatches::new(generator, cfg, index) {
        if control.is_cancelled() {
            return Err(Error::Interrupted);
        }
        let b = batch?;
        rows += b.batch.num_rows() as u64;
        words += b.words;
        text_bytes += b.text_bytes;
        writer.write(&b.batch).map_err(|e| e.at_path(tmp))?;
        control.add_words(b.words);
    }
    let mut sink = writer.finish().map_err(|e| e.at_path(tmp))?;
    sink.inner.flush().at(tmp)?;
    let file = sink.inner.into_inner().map_err(|e| e.into_error()).at(tmp)?;
    file.sync_all().at(tmp)?;
    Ok((rows, words, text_bytes, sink.bytes, hex(&sink.hasher.finalize())))
}

/// The two on-disk formats behind one interface.
enum ShardWriter<W: Write + Send> {
    Arrow(FileWriter<W>),
    Parquet(ArrowWriter<W>),
}

impl<W: Write + Send> ShardWriter<W> {
    fn new(sink: W, cfg: &CorpusConfig) -> Result<Self> {
        let schema = schema(&cfg.columns);
        Ok(match cfg.format {
            Format::Arrow => {
                let codec = match cfg.compression {
                    Compression::Zstd => Some(CompressionType::ZSTD),
                    Compression::Lz4 => Some(CompressionType::LZ4_FRAME),
                    Compression::None => None,
                };
                let mut opts = IpcWriteOptions::default().try_with_compression(codec)?;
                if cfg.compression == Compression::Zstd {
                    opts = opts.try_with_compression_level(Some(cfg.zstd_level()))?;
                }
                ShardWriter::Arrow(FileWriter::try_new_with_options(sink, &schema, opts)?)
            }
            Format::Parquet => {
                let codec = match cfg.compression {
                    Compression::Zstd => PqCompression::ZSTD(ZstdLevel::try_new(cfg.zstd_level())?),
                    Compression::Lz4 => PqCompression::LZ4_RAW,
                    Compression::None => PqCompression::UNCOMPRESSED,
                };
                let props = WriterProperties::builder()
                    .set_compression(codec)
                    .set_max_row_group_row_count(Some(usize::MAX))
                    .set_created_by(format!("hyperword {}", crate::VERSION))
                    .build();
                ShardWriter::Parquet(ArrowWriter::try_new(sink, schema, Some(props))?)
            }
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            ShardWriter::Arrow(w) => w.write(batch)?,
            ShardWriter::Parquet(w) => {
                w.write(batch)?;
                w.flush()?; // one row group per batch
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<W> {
        Ok(match self {
            ShardWriter::Arrow(mut w) => {
                w.finish()?;
                w.into_inner()?
            }
            ShardWriter::Parquet(w) => w.into_inner()?,
        })
    }
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// sha256 and size of a file on disk.
pub fn file_digest(path: &Path) -> Result<(u64, String)> {
    let mut file = File::open(path).at(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).at(path)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex(&hasher.finalize())))
}
