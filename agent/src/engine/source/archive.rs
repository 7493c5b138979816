//! Unpacking a module archive (zip, tar, tar.gz) into a fresh directory, entry by entry, with
//! every path and link checked before anything is written: no absolute path, no `..`, no link
//! leaving the tree, no device or pipe, within the limits (counted as it unpacks, so an archive
//! bomb stops early).

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::address::ArchiveKind;
use super::tree::{link_stays_inside, Budget, Limits};

/// What an archive's first bytes say it is.
pub fn sniff(bytes: &[u8]) -> Option<ArchiveKind> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Some(ArchiveKind::Zip)
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        Some(ArchiveKind::TarGz)
    } else if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
        Some(ArchiveKind::Tar)
    } else {
        None
    }
}

/// Unpacks `bytes` into `dest` (an empty directory).
pub fn unpack(bytes: &[u8], kind: ArchiveKind, dest: &Path, limits: &Limits) -> Result<(), String> {
    match kind {
        ArchiveKind::Zip => unzip(bytes, dest, limits),
        ArchiveKind::TarGz => untar(flate2::read::GzDecoder::new(bytes), dest, limits),
        ArchiveKind::Tar => untar(bytes, dest, limits),
    }
}

/// An entry's path, checked: relative, no `..`, not empty.
fn safe_path(raw: &Path) -> Result<Option<PathBuf>, String> {
    let mut out = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!(
                    "the archive entry {} has a .. path: refused",
                    raw.display()
                ))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "the archive entry {} has an absolute path: refused",
                    raw.display()
                ))
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

fn create_parent(dest: &Path, rel: &Path) -> Result<(), String> {
    if let Some(p) = rel.parent() {
        // A parent that is a link would let a later entry write through it.
        let mut at = dest.to_path_buf();
        for c in p.components() {
            at.push(c);
            if at
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
            {
                return Err(format!(
                    "the archive writes {} through a link: refused",
                    rel.display()
                ));
            }
        }
        std::fs::create_dir_all(dest.join(p)).map_err(|e| format!("cannot unpack: {e}"))?;
    }
    Ok(())
}

fn write_file(
    dest: &Path,
    rel: &Path,
    reader: &mut dyn Read,
    executable: bool,
    budget: &mut Budget,
    limits: &Limits,
) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    create_parent(dest, rel)?;
    let target = dest.join(rel);
    if target.symlink_metadata().is_ok() {
        return Err(format!(
            "the archive holds {} twice: refused",
            rel.display()
        ));
    }
    let mut file = std::fs::File::create(&target).map_err(|e| format!("cannot unpack: {e}"))?;
    let left = limits.max_bytes.saturating_sub(budget.bytes);
    let copied = std::io::copy(&mut reader.take(left + 1), &mut file)
        .map_err(|e| format!("cannot unpack {}: {e}", rel.display()))?;
    budget.bytes(copied, limits)?;
    if executable {
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot unpack: {e}"))?;
    }
    Ok(())
}

fn write_link(dest: &Path, rel: &Path, target: &Path) -> Result<(), String> {
    if !link_stays_inside(rel, target) {
        return Err(format!(
            "the archive's link {} points outside the module source (to {}): refused",
            rel.display(),
            target.display()
        ));
    }
    create_parent(dest, rel)?;
    std::os::unix::fs::symlink(target, dest.join(rel)).map_err(|e| format!("cannot unpack: {e}"))
}

fn unzip(bytes: &[u8], dest: &Path, limits: &Limits) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable zip archive: {e}"))?;
    let mut budget = Budget::default();
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| format!("cannot read the zip archive: {e}"))?;
        budget.entry(limits)?;
        let name = f.name().to_string();
        let Some(rel) = safe_path(Path::new(&name))? else {
            continue;
        };
        if f.is_dir() {
            create_parent(dest, &rel.join("x"))?;
        } else if f.is_symlink() {
            let mut target = String::new();
            f.by_ref()
                .take(4096)
                .read_to_string(&mut target)
                .map_err(|e| format!("cannot read the link {name}: {e}"))?;
            write_link(dest, &rel, Path::new(&target))?;
        } else {
            let exec = f.unix_mode().is_some_and(|m| m & 0o111 != 0);
            write_file(dest, &rel, &mut f, exec, &mut budget, limits)?;
        }
    }
    Ok(())
}

fn untar(reader: impl Read, dest: &Path, limits: &Limits) -> Result<(), String> {
    let mut ar = tar::Archive::new(reader);
    let mut budget = Budget::default();
    let entries = ar
        .entries()
        .map_err(|e| format!("not a readable tar archive: {e}"))?;
    for entry in entries {
        let mut e = entry.map_err(|e| format!("cannot read the tar archive: {e}"))?;
        let kind = e.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
        ) {
            continue;
        }
        budget.entry(limits)?;
        let raw = e
            .path()
            .map_err(|e| format!("cannot read an entry's path: {e}"))?
            .into_owned();
        let Some(rel) = safe_path(&raw)? else {
            continue;
        };
        match kind {
            tar::EntryType::Directory => create_parent(dest, &rel.join("x"))?,
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let exec = e.header().mode().is_ok_and(|m| m & 0o111 != 0);
                write_file(dest, &rel, &mut e, exec, &mut budget, limits)?;
            }
            tar::EntryType::Symlink => {
                let target = e
                    .link_name()
                    .map_err(|e| format!("cannot read a link: {e}"))?
                    .ok_or_else(|| format!("the link {} has no target", rel.display()))?
                    .into_owned();
                write_link(dest, &rel, &target)?;
            }
            tar::EntryType::Link => {
                // A hard link names another entry of the archive, from its root.
                let target = e
                    .link_name()
                    .map_err(|e| format!("cannot read a link: {e}"))?
                    .ok_or_else(|| format!("the link {} has no target", rel.display()))?
                    .into_owned();
                let Some(target) = safe_path(&target)? else {
                    return Err(format!("the link {} has no target", rel.display()));
                };
                let from = dest.join(&target);
                if !from.symlink_metadata().is_ok_and(|m| m.is_file()) {
                    return Err(format!(
                        "the hard link {} names {}, which is not an earlier file of the archive: refused",
                        rel.display(),
                        target.display()
                    ));
                }
                let mut f =
                    std::fs::File::open(&from).map_err(|e| format!("cannot unpack: {e}"))?;
                write_file(dest, &rel, &mut f, false, &mut budget, limits)?;
            }
            other => {
                return Err(format!(
                    "the archive entry {} is a {other:?}, not a file, directory or link: refused",
                    rel.display()
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A tar with one file entry whose stored name is `name`, taken literally.
    fn tar_with_name(name: &str) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_old();
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(3);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, &b"x=1"[..]).unwrap();
        b.into_inner().unwrap()
    }

    #[test]
    fn dot_dot_and_absolute_entries_are_refused() {
        let dest = tempfile::tempdir().unwrap();
        let e = unpack(
            &tar_with_name("../evil.tf"),
            ArchiveKind::Tar,
            dest.path(),
            &Limits::default(),
        )
        .unwrap_err();
        assert!(e.contains("../evil.tf has a .. path"), "{e}");
        let e = unpack(
            &tar_with_name("/etc/evil.tf"),
            ArchiveKind::Tar,
            dest.path(),
            &Limits::default(),
        )
        .unwrap_err();
        assert!(e.contains("absolute path"), "{e}");
        unpack(
            &tar_with_name("ok/main.tf"),
            ArchiveKind::Tar,
            dest.path(),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read(dest.path().join("ok/main.tf")).unwrap(),
            b"x=1"
        );
    }

    #[test]
    fn a_zip_link_out_of_the_tree_is_refused_and_a_bomb_stops_at_the_limit() {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        w.start_file("m/main.tf", opts).unwrap();
        w.write_all(b"# module\n").unwrap();
        w.add_symlink("m/leak.tf", "../../secret", opts).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let dest = tempfile::tempdir().unwrap();
        let e = unpack(&bytes, ArchiveKind::Zip, dest.path(), &Limits::default()).unwrap_err();
        assert!(e.contains("m/leak.tf points outside"), "{e}");

        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("big.tf", deflated).unwrap();
        w.write_all(&vec![b' '; 4 * 1024 * 1024]).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        assert!(bytes.len() < 64 * 1024, "compressed to {}", bytes.len());
        let dest = tempfile::tempdir().unwrap();
        let small = Limits {
            max_bytes: 1024 * 1024,
            max_files: 10,
        };
        let e = unpack(&bytes, ArchiveKind::Zip, dest.path(), &small).unwrap_err();
        assert!(e.contains("larger than 1048576 bytes"), "{e}");
        assert!(sniff(&bytes) == Some(ArchiveKind::Zip));
    }
}
