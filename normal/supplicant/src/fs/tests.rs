use super::*;
use crate::tests::{mode, tmpdir};
use std::os::unix::fs::symlink;

fn read_all(fs: &Fs, h: u64) -> Vec<u8> {
    fs.read(h, 0, 1 << 16).unwrap()
}

#[test]
fn names_cannot_escape_the_root() {
    assert_eq!(components(b"dirf.db\0"), Ok(vec![&b"dirf.db"[..]]));
    // A leading `/` is the storage root (upstream prefixes "./"); NUL ends
    // the name.
    assert_eq!(components(b"/1/2\0../../etc"), Ok(vec![&b"1"[..], b"2"]));
    assert_eq!(components(b"a//b/"), Ok(vec![&b"a"[..], b"b"]));
    for bad in [&b"../x"[..], b"a/../../b", b"a/./b", b".", b"/.."] {
        assert_eq!(components(bad), Err(BAD_PARAMETERS), "{bad:?}");
    }
    assert_eq!(components(&[b'a'; 4096]), Err(BAD_PARAMETERS), "longer than PATH_MAX");
    assert_eq!(components(&[b'a'; 256]), Err(BAD_PARAMETERS), "component longer than NAME_MAX");
    let fs = Fs::new(tmpdir("names"));
    for bad in [&b""[..], b"\0", b"/", b"//"] {
        assert_eq!(fs.create(bad), Err(BAD_PARAMETERS), "a file needs a name: {bad:?}");
    }
}

#[test]
fn file_lifecycle() {
    let root = tmpdir("life");
    let fs = Fs::new(root.clone());
    assert_eq!(fs.open(b"a/b"), Err(ITEM_NOT_FOUND));
    let fd = fs.create(b"a/b\0").unwrap();
    fs.write(fd, 3, b"xyz").unwrap();
    assert_eq!(fs.read(fd, 0, 8), Ok(b"\0\0\0xyz".to_vec()));
    assert_eq!(fs.read(fd, 5, 8), Ok(b"z".to_vec()));
    assert_eq!(fs.read(fd, 100, 8), Ok(vec![]));
    fs.truncate(fd, 4).unwrap();
    fs.close(fd).unwrap();
    assert_eq!(fs.close(fd), Err(BAD_PARAMETERS));
    assert_eq!(fs.read(fd, 0, 1), Err(BAD_PARAMETERS));
    fs.rename(b"a/b", b"c", false).unwrap();
    let fd = fs.create(b"x").unwrap();
    fs.close(fd).unwrap();
    assert_eq!(fs.rename(b"x", b"c", false), Err(ACCESS_CONFLICT));
    fs.rename(b"x", b"c", true).unwrap();
    assert_eq!(fs.rename(b"nope", b"d", false), Err(ITEM_NOT_FOUND));
    let d = fs.opendir(b"\0").unwrap();
    let mut names = Vec::new();
    while let Ok(n) = fs.readdir(d) {
        names.push(n);
    }
    names.sort();
    // rename leaves the emptied a/ in place (as upstream).
    assert_eq!(names, vec![b"a\0".to_vec(), b"c\0".to_vec()]);
    assert_eq!(fs.readdir(d), Err(ITEM_NOT_FOUND));
    fs.closedir(d).unwrap();
    assert_eq!(fs.closedir(d), Err(BAD_PARAMETERS));
    fs.remove(b"c").unwrap();
    assert_eq!(fs.remove(b"c"), Err(ITEM_NOT_FOUND));
    let fd = fs.create(b"p/q/r").unwrap();
    fs.close(fd).unwrap();
    fs.remove(b"/p/q/r").unwrap();
    assert!(!root.join("p").exists(), "empty parents are removed");
    assert!(root.exists(), "the root is not");
}

#[test]
fn create_truncates_and_open_reopens() {
    let fs = Fs::new(tmpdir("trunc"));
    let fd = fs.create(b"f").unwrap();
    fs.write(fd, 0, b"hello").unwrap();
    fs.close(fd).unwrap();
    let fd = fs.open(b"f").unwrap();
    assert_eq!(read_all(&fs, fd), b"hello");
    fs.close(fd).unwrap();
    let fd = fs.create(b"f").unwrap();
    assert_eq!(read_all(&fs, fd), b"");
    fs.close(fd).unwrap();
}

#[test]
fn hostile_offsets_and_lengths_are_errors() {
    let fs = Fs::new(tmpdir("offsets"));
    let fd = fs.create(b"f").unwrap();
    assert_eq!(fs.write(fd, u64::MAX, b"x"), Err(BAD_PARAMETERS), "end overflows");
    assert_eq!(fs.write(fd, u64::MAX - 1, b"xyz"), Err(BAD_PARAMETERS), "end overflows");
    assert_eq!(fs.write(fd, i64::MAX as u64, b"x"), Err(GENERIC), "beyond any file");
    assert_eq!(fs.read(fd, u64::MAX, 16), Err(GENERIC), "not a file offset");
    assert_eq!(fs.truncate(fd, u64::MAX), Err(GENERIC));
    assert_eq!(fs.read(fd, 0, 16), Ok(vec![]), "the file is unchanged");
    fs.close(fd).unwrap();
}

#[test]
fn opendir_hides_dot_files_and_empty_directories() {
    let root = tmpdir("dots");
    let fs = Fs::new(root.clone());
    std::fs::create_dir(root.join("d")).unwrap();
    assert_eq!(fs.opendir(b"d"), Err(ITEM_NOT_FOUND), "empty");
    std::fs::write(root.join("d/.nfs0001"), b"").unwrap();
    assert_eq!(fs.opendir(b"d"), Err(ITEM_NOT_FOUND), "only dot files");
    std::fs::write(root.join("d/1"), b"").unwrap();
    let h = fs.opendir(b"/d/").unwrap();
    assert_eq!(fs.readdir(h), Ok(b"1\0".to_vec()));
    assert_eq!(fs.readdir(h), Err(ITEM_NOT_FOUND));
    assert_eq!(fs.opendir(b"nope"), Err(ITEM_NOT_FOUND));
}

#[test]
fn what_it_creates_is_private() {
    let base = tmpdir("modes");
    // The root and its missing ancestors are created 0700.
    let root = base.join("var/lib/tee");
    let fs = Fs::new(root.clone());
    let fd = fs.create(b"/uuid/sub/file").unwrap();
    fs.close(fd).unwrap();
    for d in [base.join("var"), base.join("var/lib"), root.clone(), root.join("uuid"), root.join("uuid/sub")] {
        assert_eq!(mode(&d), DIR_MODE, "{}", d.display());
    }
    assert_eq!(mode(&root.join("uuid/sub/file")), FILE_MODE);
    fs.rename(b"uuid/sub/file", b"other/dir/moved", false).unwrap();
    assert_eq!(mode(&root.join("other")), DIR_MODE);
    assert_eq!(mode(&root.join("other/dir")), DIR_MODE);
    assert_eq!(mode(&root.join("other/dir/moved")), FILE_MODE);
}

/// The modes are set explicitly, so even a umask that takes bits from the
/// owner does not change them. umask is per process: the check runs in a
/// child process (`umask_child` below).
#[test]
fn what_it_creates_is_private_whatever_the_umask() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fs::tests::umask_child", "--ignored", "--nocapture"])
        .env("OXTEE_UMASK_CHILD", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("1 passed"), "{text}{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
#[ignore = "run by what_it_creates_is_private_whatever_the_umask"]
fn umask_child() {
    assert_eq!(std::env::var("OXTEE_UMASK_CHILD").as_deref(), Ok("1"), "run through its parent test");
    let base = tmpdir("umask");
    let old = rustix::process::umask(Mode::from_raw_mode(0o277));
    let root = base.join("root");
    let fs = Fs::new(root.clone());
    let fd = fs.create(b"d/f").unwrap();
    fs.close(fd).unwrap();
    let mut rpmb = crate::rpmb::Rpmb::new(root.join("rpmb.bin"));
    let mut req = vec![0u8; crate::rpmb::REQ_HEAD];
    let mut key = [0u8; crate::rpmb::FRAME];
    crate::rpmb::put16(&mut key, crate::rpmb::MSG_TYPE, crate::rpmb::MSG_PROGRAM_KEY);
    req.extend_from_slice(&key);
    rpmb.request(&req, crate::rpmb::FRAME).unwrap();
    rustix::process::umask(old);
    assert_eq!(mode(&root), DIR_MODE);
    assert_eq!(mode(&root.join("d")), DIR_MODE);
    assert_eq!(mode(&root.join("d/f")), FILE_MODE);
    assert_eq!(mode(&root.join("rpmb.bin")), FILE_MODE);
}

/// A tree with links planted in it: `outside/` holds what they point to.
struct Planted {
    fs: Fs,
    root: PathBuf,
    outside: PathBuf,
    outside_mode: u32,
}

impl Planted {
    fn new(tag: &str) -> Planted {
        let base = tmpdir(tag);
        let (root, outside) = (base.join("root"), base.join("outside"));
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), b"keep").unwrap();
        symlink(&outside, root.join("dirlink")).unwrap();
        symlink(&outside, root.join("real/dirlink")).unwrap();
        symlink(outside.join("secret"), root.join("filelink")).unwrap();
        symlink(outside.join("secret"), root.join("real/filelink")).unwrap();
        symlink(outside.join("absent"), root.join("dangling")).unwrap();
        let outside_mode = mode(&outside);
        Planted { fs: Fs::new(root.clone()), root, outside, outside_mode }
    }

    /// The targets are as they were, and nothing new appeared outside.
    fn untouched(&self) {
        assert_eq!(std::fs::read(self.outside.join("secret")).unwrap(), b"keep");
        let mut names: Vec<_> = std::fs::read_dir(&self.outside).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["secret"], "nothing created through a link");
        for l in ["dirlink", "real/dirlink", "filelink", "real/filelink", "dangling"] {
            assert!(
                std::fs::symlink_metadata(self.root.join(l)).unwrap().file_type().is_symlink(),
                "{l} is still a link"
            );
        }
        assert_eq!(mode(&self.outside), self.outside_mode, "outside's mode unchanged");
    }
}

#[test]
fn a_linked_file_is_never_followed() {
    let p = Planted::new("filelink");
    for name in [&b"filelink"[..], b"real/filelink", b"dangling"] {
        assert!(p.fs.open(name).is_err(), "open {name:?}");
        assert!(p.fs.create(name).is_err(), "create {name:?} (truncating or creating the target)");
        assert!(p.fs.remove(name).is_err(), "remove {name:?}");
        assert!(p.fs.rename(name, b"moved", false).is_err(), "rename from {name:?}");
        let fd = p.fs.create(b"victim").unwrap();
        p.fs.close(fd).unwrap();
        assert!(p.fs.rename(b"victim", name, true).is_err(), "rename over {name:?}");
        assert!(p.fs.rename(b"victim", name, false).is_err(), "rename onto {name:?}");
        assert!(p.fs.opendir(name).is_err(), "opendir {name:?}");
    }
    p.untouched();
}

#[test]
fn a_linked_directory_anywhere_in_a_path_is_never_followed() {
    let p = Planted::new("dirlink");
    for dir in ["dirlink", "real/dirlink"] {
        let name = |leaf: &str| format!("{dir}/{leaf}").into_bytes();
        assert_eq!(p.fs.open(&name("secret")), Err(ITEM_NOT_FOUND), "open through {dir}");
        assert!(p.fs.create(&name("new")).is_err(), "create through {dir}");
        assert!(p.fs.create(&name("deeper/new")).is_err(), "create below {dir}");
        assert!(p.fs.create(&name("secret")).is_err(), "truncate through {dir}");
        assert!(p.fs.remove(&name("secret")).is_err(), "remove through {dir}");
        assert!(p.fs.rename(&name("secret"), b"stolen", true).is_err(), "rename out of {dir}");
        let fd = p.fs.create(b"victim").unwrap();
        p.fs.close(fd).unwrap();
        assert!(p.fs.rename(b"victim", &name("planted"), true).is_err(), "rename into {dir}");
        assert_eq!(p.fs.opendir(dir.as_bytes()), Err(ITEM_NOT_FOUND), "opendir {dir}");
        assert_eq!(p.fs.opendir(&name("x")), Err(ITEM_NOT_FOUND), "opendir below {dir}");
    }
    p.untouched();
    // The real directory still works.
    let fd = p.fs.create(b"real/ok").unwrap();
    p.fs.close(fd).unwrap();
    assert!(p.root.join("real/ok").is_file());
}
