use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::StoreError;

/// Writes a file so that readers only ever see the old or the new content: the bytes go to a
/// temporary file in the same directory, which is synced and then renamed over the target; the
/// directory is synced so the rename survives a power cut. A crash before the rename leaves the
/// previous file untouched and a `.tmp-<pid>` file, which the next write of the same file removes
/// once no process of that pid runs on this machine.
///
/// A path that names something other than a regular file is not replaced: a device or pipe
/// (`/dev/null`, a FIFO, `/dev/stdout` on a pipe or a terminal) is written straight into, as a
/// shell redirection would, since renaming over it would swap the device for a plain file; so is
/// a file reached through a process's open descriptors (`/dev/stdout`, `/dev/fd/N` redirected to
/// a file: appended to, as the shell's `>>` would, never renamed over); another symbolic link is
/// followed and its target written as above (the link stays); a directory is refused.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    // What the path leads to, every link followed by the kernel (a `/proc/self/fd/1` included).
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(StoreError::Io {
                action: "cannot replace a directory with a file at",
                path: path.into(),
                source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "name a file, not a directory"),
            });
        }
        Ok(m) if !m.is_file() => return write_in_place(path, write),
        _ => {}
    }
    let resolved;
    let path = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            match placed_by_another(path, &m).map_or_else(|| resolve_link(path), Err)? {
                Link::Descriptor => return write_in_place(path, write),
                Link::To(p) => {
                    resolved = p;
                    resolved.as_path()
                }
            }
        }
        _ => path,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|source| StoreError::Io { action: "cannot create", path: dir.into(), source })?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    remove_dead_temporaries(dir, &name);
    // Made new, never opened where it stands: a link placed at the name (by another user of a
    // shared folder) is not written through, and the next name is taken.
    let (tmp, mut f) = create_temporary(dir, &name)?;
    let result = (|| {
        write(&mut f).map_err(|e| as_written(e, path))?;
        f.flush().map_err(|source| StoreError::Io { action: "cannot write", path: tmp.clone(), source })?;
        f.sync_all().map_err(|source| StoreError::Io { action: "cannot sync", path: tmp.clone(), source })?;
        fs::rename(&tmp, path).map_err(|source| StoreError::Io {
            action: "cannot rename into place",
            path: path.into(),
            source,
        })
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    // Directory fsync is best effort: not every platform allows opening a directory.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A writer's error as the file system's own where it is one (a full disk, a quota, an I/O
/// error): a Parquet or Arrow writer wraps it, and read so it would pass for a damaged file, whose
/// remedy (move the stored file aside) would drop the history a full disk never touched.
fn as_written(e: StoreError, path: &Path) -> StoreError {
    let StoreError::Parquet { source: parquet::errors::ParquetError::External(inner), .. } = e else { return e };
    match inner.downcast::<std::io::Error>() {
        Ok(io) => StoreError::Io { action: "cannot write", path: path.into(), source: *io },
        Err(inner) => StoreError::Parquet { path: path.into(), source: parquet::errors::ParquetError::External(inner) },
    }
}

/// Where a chain of symbolic links leads.
enum Link {
    /// The path its last link names (a dangling link: the write creates it).
    To(std::path::PathBuf),
    /// Through a process's open descriptors (`/proc/…/fd/N`, `/dev/fd/N`): whatever it names is
    /// that process's, to be written into, never replaced.
    Descriptor,
}

/// Follows a chain of symbolic links by hand (at most 40).
fn resolve_link(path: &Path) -> Result<Link, StoreError> {
    let through_fd = |p: &Path| {
        let s = p.to_string_lossy();
        (s.starts_with("/proc/") && s.contains("/fd/")) || s.starts_with("/dev/fd/")
    };
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        if through_fd(&at) {
            return Ok(Link::Descriptor);
        }
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&at).map_err(|source| StoreError::Io {
                    action: "cannot read the link",
                    path: at.clone(),
                    source,
                })?;
                at = match at.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(Link::To(at)),
        }
    }
    Err(StoreError::Io {
        action: "cannot follow the links of",
        path: path.into(),
        source: std::io::Error::other("more than 40 symbolic links in a row (a loop?)"),
    })
}

/// Writes into a device, a pipe or a descriptor's file as it is: no temporary file, no rename;
/// appended (a file behind `/dev/stdout` keeps what the shell or the run wrote before).
fn write_in_place(path: &Path, write: impl FnOnce(&mut File) -> Result<(), StoreError>) -> Result<(), StoreError> {
    let mut f = fs::OpenOptions::new().append(true).open(path).map_err(|source| StoreError::Io {
        action: "cannot open for writing",
        path: path.into(),
        source,
    })?;
    write(&mut f).map_err(|e| as_written(e, path))?;
    f.flush().map_err(|source| StoreError::Io { action: "cannot write", path: path.into(), source })
}

/// Writes `bytes` as the store writes its own files, for files outside it (a plan, a sink's state,
/// a chart): to a temporary file of this process, synced, then renamed over `path`; a reader,
/// another run or a power cut sees the old file or the new one, never half of one.
///
/// # Errors
/// [`StoreError::Io`] naming the file and what could not be done to it.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic(path, |f| {
        f.write_all(bytes).map_err(|source| StoreError::Io { action: "cannot write", path: path.into(), source })
    })
}

/// A link at `path` that another user than its folder's owner placed (in a folder others can
/// write): not followed, as an error, since its target would be written as this user. A user's
/// own links in their own folders are followed.
pub fn placed_by_another(path: &Path, link: &fs::Metadata) -> Option<StoreError> {
    use std::os::unix::fs::MetadataExt as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let owner = fs::metadata(dir).ok()?.uid();
    (link.uid() != owner).then(|| StoreError::Io {
        action: "will not write through a link placed by another user than the folder's owner at",
        path: path.into(),
        source: std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "remove the link, and give prescale a folder other users cannot write",
        ),
    })
}

/// A new temporary file for `name` in `dir`, `.{name}.tmp-<pid>` (or `-<pid>-<k>` where that
/// name is taken), created exclusively: nothing that stands at the name, a symbolic link
/// included, is opened.
fn create_temporary(dir: &Path, name: &str) -> Result<(std::path::PathBuf, File), StoreError> {
    let pid = std::process::id();
    let mut last = None;
    for k in 0..64 {
        let tmp =
            if k == 0 { dir.join(format!(".{name}.tmp-{pid}")) } else { dir.join(format!(".{name}.tmp-{pid}-{k}")) };
        // This pid's own leftover (a writer of the same pid that died) goes, once it is stale: in
        // a store shared by containers, another one's writer may run as the same pid, its file
        // fresh (a write takes seconds). A link is removed itself, never what it points to.
        if k == 0 && stale(&tmp) {
            let _ = fs::remove_file(&tmp);
        }
        match fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some((tmp, e)),
            Err(source) => return Err(StoreError::Io { action: "cannot create", path: tmp, source }),
        }
    }
    let (path, source) = last.expect("64 names were tried");
    Err(StoreError::Io { action: "cannot create (64 temporary names taken)", path, source })
}

/// Whether the file at `p` (a link itself, not its target) last changed over ten minutes ago: no
/// live writer's temporary file.
fn stale(p: &Path) -> bool {
    fs::symlink_metadata(p)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > std::time::Duration::from_secs(600)))
}

/// Removes `.{name}.tmp-<pid>` files left in `dir` by writers that died: their pid no longer runs
/// here (`/proc`; where there is no `/proc`, nothing is removed), and the file has not changed for
/// ten minutes (a store shared by containers sees other pid namespaces' writers, whose pids this
/// one's `/proc` does not show: a write takes seconds). Best effort.
fn remove_dead_temporaries(dir: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        // `<pid>`, or `<pid>-<k>` where the first name was taken.
        let Some(pid) = file.strip_prefix(&prefix).and_then(|p| p.split('-').next()?.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() && stale(&e.path()) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Writes one record batch of `columns` as a Parquet file (atomically), tagged with its schema.
pub(crate) fn write_table(
    path: &Path,
    schema: arrow_schema::Schema,
    columns: Vec<arrow_array::ArrayRef>,
    tag: &str,
    extra: &[(&str, String)],
) -> Result<(), StoreError> {
    let mut meta = std::collections::HashMap::from([("prescale.schema".to_string(), tag.to_string())]);
    meta.extend(extra.iter().map(|(k, v)| (format!("prescale.{k}"), v.clone())));
    // On the Arrow schema too, beside the file's key-value metadata: pandas and pyarrow readers
    // see the schema's (`pq.read_table(f).schema.metadata`), not the footer's.
    let schema = std::sync::Arc::new(schema.with_metadata(meta.clone()));
    let batch = arrow_array::RecordBatch::try_new(schema.clone(), columns)
        .map_err(|source| StoreError::Arrow { path: path.to_path_buf(), source })?;
    write_atomic(path, |file| {
        let err = |source| StoreError::Parquet { path: path.to_path_buf(), source };
        let props = crate::metrics::writer_props(meta);
        let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, Some(props)).map_err(err)?;
        w.write(&batch).map_err(err)?;
        w.close().map_err(err)?;
        Ok(())
    })
}

/// Writes `doc` as pretty JSON with a final newline, atomically ([`write_file_atomic`]); `json`
/// names a document that cannot be serialised.
pub(crate) fn write_json_atomic<T: serde::Serialize>(
    path: &Path,
    doc: &T,
    json: impl Fn(serde_json::Error) -> StoreError,
) -> Result<(), StoreError> {
    let mut bytes = serde_json::to_vec_pretty(doc).map_err(json)?;
    bytes.push(b'\n');
    write_file_atomic(path, &bytes)
}

/// Reads the JSON document at `path` whose `format` tag must be `expected`: `None` when there is
/// no file. The tag is read first, so another version's file is named as such rather than as
/// broken.
///
/// # Errors
/// [`StoreError::Io`] when the file exists but cannot be read, `json`'s error when it is not such
/// a document, [`StoreError::Format`] for another version.
pub(crate) fn read_tagged_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    expected: &'static str,
    json: impl Fn(serde_json::Error) -> StoreError,
) -> Result<Option<T>, StoreError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StoreError::Io { action: "cannot read", path: path.into(), source }),
    };
    #[derive(serde::Deserialize)]
    struct Tag {
        format: Option<String>,
    }
    let tag: Tag = serde_json::from_str(&text).map_err(&json)?;
    if tag.format.as_deref() != Some(expected) {
        return Err(StoreError::Format { path: path.into(), found: tag.format.unwrap_or_default(), expected });
    }
    serde_json::from_str(&text).map(Some).map_err(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_the_file_systems_error_not_a_damaged_file() {
        // /dev/full answers every write with ENOSPC, as a full disk does.
        let column: arrow_array::ArrayRef = std::sync::Arc::new(arrow_array::Float64Array::from(vec![1.0; 4096]));
        let schema =
            arrow_schema::Schema::new(vec![arrow_schema::Field::new("v", arrow_schema::DataType::Float64, false)]);
        match write_table(Path::new("/dev/full"), schema, vec![column], "test/v1", &[]) {
            Err(StoreError::Io { action: "cannot write", source, .. }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::StorageFull)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_link_another_user_placed_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let path = dir.path().join("plan.json");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        // Only root can give a link to another user: elsewhere the link is this user's own.
        if std::os::unix::fs::lchown(&path, Some(65_534), Some(65_534)).is_err() {
            write_file_atomic(&path, b"{}").unwrap();
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "{}", "one's own link is followed");
            return;
        }
        let e = write_file_atomic(&path, b"{}").unwrap_err().to_string();
        assert!(e.contains("will not write through a link placed by another user"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    }

    #[test]
    fn links_at_the_temporary_names_are_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        // Another user's links at every name the writer may take.
        let pid = std::process::id();
        for k in 0..3 {
            let name = if k == 0 { format!(".plan.json.tmp-{pid}") } else { format!(".plan.json.tmp-{pid}-{k}") };
            std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
        }
        let path = dir.path().join("plan.json");
        write_file_atomic(&path, b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert!(std::fs::symlink_metadata(&path).unwrap().file_type().is_file());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
    }

    #[test]
    fn a_symbolic_link_is_followed_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("plan.json");
        fs::write(&target, b"old").unwrap();
        let link = dir.path().join("latest.json");
        std::os::unix::fs::symlink("plan.json", &link).unwrap();
        write_file_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
        assert_eq!(fs::read(&target).unwrap(), b"new");
        // A dangling link creates the file it names.
        let dangling = dir.path().join("next.json");
        std::os::unix::fs::symlink("sub/next-target.json", &dangling).unwrap();
        write_file_atomic(&dangling, b"x").unwrap();
        assert_eq!(fs::read(dir.path().join("sub/next-target.json")).unwrap(), b"x");
        assert!(fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
    }

    #[test]
    fn a_pipe_is_written_into_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("out.fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        write_file_atomic(&fifo, b"through the pipe").unwrap();
        // Checked before joining: a reader of a pipe swapped away would wait forever.
        let m = fs::symlink_metadata(&fifo).unwrap();
        assert!(!m.is_file(), "the pipe was swapped for a plain file");
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 1, "no temporary left beside the pipe: {left:?}");
    }

    #[test]
    fn a_directory_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("out");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("kept"), b"1").unwrap();
        let e = write_file_atomic(&sub, b"x").unwrap_err().to_string();
        assert!(e.contains("directory"), "{e}");
        assert_eq!(fs::read(sub.join("kept")).unwrap(), b"1");
    }
}
