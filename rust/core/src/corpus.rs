//! A whole corpus: its shards written in parallel, the output directory's lock, and the
//! corpus as a stream.
//!
//! Layout of a corpus directory:
//! - `shard-00000.arrow` ... — complete shards only (written under a hidden temporary name,
//!   renamed when complete);
//! - `manifest.json` — written last: present means complete;
//! - `.hyperword/` — while a run is unfinished: `run.json` (the fingerprint) and one record
//!   per finished shard, so a rerun keeps every shard whose checksum still verifies.
//!
//! Which shards a run writes, what it keeps, what it refuses and how it records them are the
//! rules of one directory run, kept once, in Python (`python/hyperword/formats/run.py`); they
//! drive [`write_shards`] here, which writes the missing shards and reports each as it lands.

use crate::batch::{schema, ShardBatches};
use crate::config::{CorpusConfig, FusionConfig};
use crate::control::{effective_threads, run_indexed, Control};
use crate::error::{Error, IoContext, Result};
use crate::fusion::{shard_rng, Fuser};
use crate::generator::Generator;
use crate::lexicon::Lexicon;
use crate::manifest::Manifest;
use crate::shard::{check_indices, file_digest, write_shard, ShardInfo};
use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The run state of an unfinished run (Python's writers read these names from here).
pub const STATE_DIR: &str = ".hyperword";
/// `STATE_DIR/RUN_FILE`: the fingerprint of the unfinished run.
pub const RUN_FILE: &str = "run.json";
/// The lock file a writer holds in its output directory for the length of a run.
pub const LOCK_FILE: &str = ".hyperword.lock";

/// Write shards `indices` of the corpus `cfg` into the directory `dir` on `threads` threads
/// (`None`: every core; one in a fork child), each as [`write_shard`] writes it. `on_written`
/// is called, on the thread that wrote it, with each shard's record as soon as the shard is in
/// place, so that the caller can record it while the others are being written. Returns the
/// records in the order of `indices`; stops at the first error or when `control` is cancelled,
/// leaving only complete shards.
pub fn write_shards<F>(
    dir: &Path,
    generator: &Generator,
    cfg: &CorpusConfig,
    indices: &[u64],
    threads: Option<usize>,
    control: &Control,
    on_written: F,
) -> Result<Vec<ShardInfo>>
where
    F: Fn(&ShardInfo) + Sync,
{
    check_indices(cfg, indices)?;
    run_indexed(effective_threads(threads), indices, control, |index| {
        if control.is_cancelled() {
            return Err(Error::Interrupted);
        }
        let info = write_shard(dir, generator, cfg, index, control)?;
        on_written(&info);
        Ok(info)
    })
}

/// A whole corpus written afresh into `dir` (created if missing): every shard, then the
/// manifest. No resume, no refusal and no run state (those are the directory run's, in
/// Python): for tests and benchmarks.
pub fn write_corpus(
    dir: &Path,
    lexicon: &Lexicon,
    cfg: &CorpusConfig,
    threads: Option<usize>,
    control: &Control,
) -> Result<Manifest> {
    let generator = Generator::new(lexicon, cfg)?;
    std::fs::create_dir_all(dir).at(dir)?;
    let indices: Vec<u64> = (0..cfg.shard_count()).collect();
    let shards = write_shards(dir, &generator, cfg, &indices, threads, control, |_| {})?;
    let manifest = Manifest::new(cfg, generator.content(lexicon), shards);
    manifest.write(dir)?;
    Ok(manifest)
}

/// A held lock on an output directory: one writer at a time, for the length of a run.
///
/// The lock is `flock(2)` on `DIR/.hyperword.lock`, which records the holder's process id and
/// start time for the message a second writer gets. The kernel releases it when its holder
/// dies, so a lock left by a killed process is simply taken over. Dropping it removes the
/// file, then releases the lock.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl OutputLock {
    /// Remove the lock file and release the lock (also done on drop).
    pub fn release(&mut self) {
        if let Some(file) = self.file.take() {
            let _ = std::fs::remove_file(&self.path);
            drop(file);
        }
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        self.release();
    }
}

/// Take the lock of the output directory `dir` (created if missing), or fail with
/// [`Error::Locked`] naming the live process that holds it.
pub fn lock_output(dir: &Path) -> Result<OutputLock> {
    std::fs::create_dir_all(dir).at(dir)?;
    let path = dir.join(LOCK_FILE);
    loop {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .at(&path)?;
        if !try_flock(&file).at(&path)? {
            return Err(locked(dir, &mut file));
        }
        // The holder we waited on may have removed the file before releasing it: lock the
        // file that is at the path now.
        if !same_file(&file, &path) {
            continue;
        }
        let record = serde_json::json!({ "pid": std::process::id(), "started": utc_now() }).to_string();
        file.set_len(0).at(&path)?;
        file.rewind().at(&path)?;
        file.write_all(record.as_bytes()).at(&path)?;
        return Ok(OutputLock { path, file: Some(file) });
    }
}

/// Fail with [`Error::Locked`] when a live process holds the lock of `dir`; changes nothing.
pub fn check_unlocked(dir: &Path) -> Result<()> {
    let path = dir.join(LOCK_FILE);
    let Ok(mut file) = std::fs::File::open(&path) else {
        return Ok(());
    };
    if try_flock(&file).at(&path)? {
        return Ok(()); // a lock left by a dead process; released when `file` closes
    }
    Err(locked(dir, &mut file))
}

fn locked(dir: &Path, file: &mut std::fs::File) -> Error {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let holder: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let who = match (holder["pid"].as_u64(), holder["started"].as_str()) {
        (Some(pid), Some(started)) => format!("process {pid} (started {started})"),
        _ => "another process".to_string(),
    };
    Error::Locked(format!(
        "{} is being written by {who}; wait for it to finish or stop it",
        dir.display()
    ))
}

#[cfg(unix)]
fn try_flock(file: &std::fs::File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock on a file descriptor this function borrows for the call.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.kind() {
            std::io::ErrorKind::WouldBlock => return Ok(false),
            std::io::ErrorKind::Interrupted => continue,
            _ => return Err(err),
        }
    }
}

#[cfg(not(unix))]
fn try_flock(_file: &std::fs::File) -> std::io::Result<bool> {
    Ok(true) // no advisory locks: one writer at a time is the caller's business
}

#[cfg(unix)]
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &std::fs::File, path: &Path) -> bool {
    path.exists()
}

/// The current time as `2026-01-31 12:00:00 UTC`.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Check each shard's size and sha256 against its record.
pub fn verify_shards(dir: &Path, shards: &[ShardInfo]) -> Result<()> {
    for s in shards {
        let path = dir.join(&s.path);
        let (bytes, sha) = file_digest(&path).map_err(|e| Error::Corrupt(format!("{}: {e}", s.path)))?;
        if bytes != s.bytes || sha != s.sha256 {
            return Err(Error::Corrupt(format!(
                "{}: size or checksum differs from the manifest",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The corpus as a stream of record batches, generated on demand: the same rows, in the same
/// order, as the shards `generate` writes, without touching disk.
pub struct CorpusStream {
    generator: Generator,
    cfg: CorpusConfig,
    schema: SchemaRef,
    next_shard: u64,
    current: Option<ShardBatches>,
}

impl CorpusStream {
    pub fn new(lexicon: &Lexicon, cfg: &CorpusConfig) -> Result<CorpusStream> {
        let generator = Generator::new(lexicon, cfg)?;
        Ok(CorpusStream {
            generator,
            cfg: cfg.clone(),
            schema: schema(&cfg.columns),
            next_shard: 0,
            current: None,
        })
    }
}

impl Iterator for CorpusStream {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(batch) = self.current.as_mut().and_then(Iterator::next) {
                return Some(batch.map(|b| b.batch));
            }
            if self.next_shard >= self.cfg.shard_count() {
                return None;
            }
            self.current = Some(ShardBatches::new(&self.generator, &self.cfg, self.next_shard));
            self.next_shard += 1;
        }
    }
}

impl RecordBatchReader for CorpusStream {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// The first `n` phrases of shard 0 for this configuration and seed.
pub fn sample(lexicon: &Lexicon, fusion: &FusionConfig, seed: u64, n: usize) -> Result<Vec<String>> {
    let fuser = Fuser::new(lexicon, fusion)?;
    let mut rng = shard_rng(seed, 0);
    let mut ids = Vec::new();
    Ok((0..n)
        .map(|_| {
            fuser.next_phrase(&mut rng, &mut ids);
            fuser.text(&ids)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_at_a_time_and_none_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut held = lock_output(&out).unwrap();
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(LOCK_FILE)).unwrap()).unwrap();
        assert_eq!(record["pid"].as_u64(), Some(u64::from(std::process::id())));
        // flock(2) locks belong to an open file: a second open, even in this process, is refused
        let err = lock_output(&out).unwrap_err();
        assert!(matches!(err, Error::Locked(_)));
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "{} is being written by process {} (started 2",
                out.display(),
                std::process::id()
            )),
            "{msg}"
        );
        assert!(matches!(check_unlocked(&out), Err(Error::Locked(_))));
        held.release();
        assert!(!out.join(LOCK_FILE).exists());
        check_unlocked(&out).unwrap();
        // a lock file whose holder is gone (nobody holds the flock) is taken over
        std::fs::write(out.join(LOCK_FILE), r#"{"pid":1,"started":"then"}"#).unwrap();
        check_unlocked(&out).unwrap();
        drop(lock_output(&out).unwrap());
        assert!(!out.join(LOCK_FILE).exists());
    }

    #[test]
    fn utc_now_is_a_plain_timestamp() {
        let t = utc_now();
        assert_eq!(t.len(), "2026-01-31 12:00:00 UTC".len(), "{t}");
        assert!(t.starts_with("20") && t.ends_with(" UTC"));
    }
}
