use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::StoreError;

/// Writes a file so that readers only ever see the old or the new content: the bytes go to a
/// temporary file in the same directory, which is synced and then renamed over the target; the
/// directory is synced so the rename survives a power cut. A crash before the rename leaves the
/// previous file untouched and a `.tmp-*` file that the next write replaces.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir).map_err(|source| StoreError::Io { action: "cannot create", path: dir.into(), source })?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
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
