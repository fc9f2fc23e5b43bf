use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::StoreError;

/// Writes a file so that readers only ever see the old or the new content: the bytes go to a
/// temporary file in the same directory, which is synced and then renamed over the target; the
/// directory is synced so the rename survives a power cut. A crash before the rename leaves the
/// previous file untouched and a `.tmp-<pid>` file, which the next write of the same file removes
/// once no process of that pid runs on this machine.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir).map_err(|source| StoreError::Io { action: "cannot create", path: dir.into(), source })?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    remove_dead_temporaries(dir, &name);
    let result = (|| {
        let mut f = File::create(&tmp).map_err(|source| StoreError::Io {
            action: "cannot create",
            path: tmp.clone(),
            source,
        })?;
        write(&mut f)?;
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

/// Removes `.{name}.tmp-<pid>` files left in `dir` by writers that died: their pid no longer runs
/// here (`/proc`; where there is no `/proc`, nothing is removed). Best effort.
fn remove_dead_temporaries(dir: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file.strip_prefix(&prefix).and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
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
    let schema = std::sync::Arc::new(schema);
    let batch = arrow_array::RecordBatch::try_new(schema.clone(), columns)
        .map_err(|source| StoreError::Arrow { path: path.to_path_buf(), source })?;
    let mut meta = std::collections::HashMap::from([("prescale.schema".to_string(), tag.to_string())]);
    meta.extend(extra.iter().map(|(k, v)| (format!("prescale.{k}"), v.clone())));
    write_atomic(path, |file| {
        let err = |source| StoreError::Parquet { path: path.to_path_buf(), source };
        let props = crate::metrics::writer_props(meta);
        let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, Some(props)).map_err(err)?;
        w.write(&batch).map_err(err)?;
        w.close().map_err(err)?;
        Ok(())
    })
}
