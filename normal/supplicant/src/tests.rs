//! Helpers shared by the host tests, and the request framing.

use super::*;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh empty directory for one test.
pub fn tmpdir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "oxtee-supp-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The permission bits of `p` itself (a link is not followed).
pub fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

fn param(attr: u64) -> IoctlParam {
    IoctlParam { attr, a: 1, b: 2, c: 3 }
}

#[test]
fn request_id_parameters_are_skipped_and_must_come_first() {
    let mut p = [param(META), param(1), param(5)];
    assert_eq!(request_params(&mut p).map(|r| r.len()), Some(2));
    let mut p = [param(1), param(5)];
    assert_eq!(request_params(&mut p).map(|r| r.len()), Some(2), "no META at all");
    let mut p = [param(META), param(META)];
    assert_eq!(request_params(&mut p).map(|r| r.len()), Some(0));
    let mut p: [IoctlParam; 0] = [];
    assert_eq!(request_params(&mut p).map(|r| r.len()), Some(0));
    let mut p = [param(META), param(1), param(META | 1)];
    assert!(request_params(&mut p).is_none(), "META after a real parameter");
}
