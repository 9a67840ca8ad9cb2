use super::*;
use crate::tests::{mode, tmpdir};

fn frame(msg: u16) -> Frame {
    let mut f = [0u8; FRAME];
    put16(&mut f, MSG_TYPE, msg);
    f
}

fn req(frames: &[Frame]) -> Vec<u8> {
    let mut r = vec![0u8; REQ_HEAD];
    r[..2].copy_from_slice(&CMD_DATA_REQUEST.to_ne_bytes());
    for f in frames {
        r.extend_from_slice(f);
    }
    r
}

fn result(out: &[u8]) -> u16 {
    u16::from_be_bytes([out[RESULT], out[RESULT + 1]])
}

fn key_frame() -> Frame {
    let mut k = frame(MSG_PROGRAM_KEY);
    k[KEY_MAC..KEY_MAC + 32].copy_from_slice(&[7; 32]);
    k
}

fn mac_with_key(frames: &[&Frame]) -> [u8; 32] {
    State { key: Some([7; 32]), counter: 0, data: vec![] }.mac(frames.iter().copied()).unwrap()
}

#[test]
fn key_counter_write_read_and_persistence() {
    let file = tmpdir("rpmb").join("rpmb.bin");
    let mut r = Rpmb::new(file.clone());
    let c = r.request(&req(&[frame(MSG_GET_WRITE_COUNTER)]), FRAME).unwrap();
    assert_eq!(result(&c), RES_KEY_NOT_PROGRAMMED);
    assert!(!file.exists(), "nothing written before there is something to keep");
    assert_eq!(result(&r.request(&req(&[key_frame()]), FRAME).unwrap()), RES_OK);
    assert_eq!(mode(&file), FILE_MODE);
    assert_eq!(result(&r.request(&req(&[key_frame()]), FRAME).unwrap()), RES_GENERAL_FAILURE);
    // An authenticated write of two blocks at address 3.
    let (mut w1, mut w2) = (frame(MSG_WRITE_DATA), frame(MSG_WRITE_DATA));
    for w in [&mut w1, &mut w2] {
        put16(w, ADDRESS, 3);
        put16(w, BLOCK_COUNT, 2);
    }
    w1[DATA..DATA + BLOCK].fill(0xaa);
    w2[DATA..DATA + BLOCK].fill(0xbb);
    let mac = mac_with_key(&[&w1, &w2]);
    w2[KEY_MAC..KEY_MAC + 32].copy_from_slice(&mac);
    let out = r.request(&req(&[w1, w2]), FRAME).unwrap();
    assert_eq!(result(&out), RES_OK);
    assert_eq!(&out[COUNTER..COUNTER + 4], &1u32.to_be_bytes());
    // Replay: counter mismatch. Tampered MAC: auth failure.
    assert_eq!(result(&r.request(&req(&[w1, w2]), FRAME).unwrap()), RES_COUNTER_FAILURE);
    w2[KEY_MAC] ^= 1;
    assert_eq!(result(&r.request(&req(&[w1, w2]), FRAME).unwrap()), RES_AUTH_FAILURE);
    // A fresh instance reads the data back from the file, MAC'd.
    let mut r2 = Rpmb::new(file.clone());
    let mut rd = frame(MSG_READ_DATA);
    put16(&mut rd, ADDRESS, 3);
    rd[NONCE..NONCE + 16].copy_from_slice(&[5; 16]);
    let out = r2.request(&req(&[rd]), 2 * FRAME).unwrap();
    assert_eq!(&out[DATA..DATA + 4], &[0xaa; 4]);
    assert_eq!(&out[FRAME + DATA..FRAME + DATA + 4], &[0xbb; 4]);
    assert_eq!(&out[NONCE..NONCE + 16], &[5; 16]);
    let frames: Vec<Frame> = out.chunks_exact(FRAME).map(|c| c.try_into().unwrap()).collect();
    assert_eq!(mac_with_key(&[&frames[0], &frames[1]]), out[FRAME + KEY_MAC..FRAME + KEY_MAC + 32]);
    let c = r2.request(&req(&[frame(MSG_GET_WRITE_COUNTER)]), FRAME).unwrap();
    assert_eq!((result(&c), &c[COUNTER..COUNTER + 4]), (RES_OK, &1u32.to_be_bytes()[..]));
    // Past the end of the partition.
    put16(&mut rd, ADDRESS, (BLOCKS - 1) as u16);
    assert_eq!(result(&r2.request(&req(&[rd]), 2 * FRAME).unwrap()), RES_ADDRESS_FAILURE);
}

#[test]
fn response_sizes_are_bounded_before_anything_is_allocated() {
    let mut r = Rpmb::new(tmpdir("rpmb-sizes").join("rpmb.bin"));
    let read = req(&[frame(MSG_READ_DATA)]);
    // The whole partition is the largest read; more is refused, however
    // large (this would otherwise be a huge allocation).
    assert!(r.request(&read, BLOCKS * FRAME).is_ok());
    for len in [(BLOCKS + 1) * FRAME, usize::MAX, usize::MAX / 2, 1 << 40] {
        assert_eq!(r.request(&read, len), Err(BAD_PARAMETERS), "{len}");
    }
    assert_eq!(r.request(&read, FRAME - 1), Err(BAD_PARAMETERS), "no whole frame");
    // Writes, key programming and counter reads answer exactly one frame.
    for msg in [MSG_PROGRAM_KEY, MSG_WRITE_DATA, MSG_GET_WRITE_COUNTER] {
        for len in [0, 2 * FRAME, usize::MAX] {
            assert_eq!(r.request(&req(&[frame(msg)]), len), Err(BAD_PARAMETERS), "msg {msg} len {len}");
        }
    }
    assert_eq!(r.request(&req(&[frame(MSG_GET_WRITE_COUNTER); 2]), FRAME), Err(BAD_PARAMETERS));
    assert_eq!(r.request(&req(&[frame(MSG_READ_DATA); 2]), FRAME), Err(BAD_PARAMETERS));
}

#[test]
fn malformed_requests_get_upstreams_errors() {
    let mut r = Rpmb::new(tmpdir("rpmb-bad").join("rpmb.bin"));
    assert_eq!(r.request(&[], FRAME), Err(BAD_PARAMETERS), "shorter than the header");
    assert_eq!(r.request(&[0; 5], FRAME), Err(BAD_PARAMETERS));
    assert_eq!(r.request(&req(&[]), FRAME), Err(BAD_PARAMETERS), "no frame");
    let mut part = req(&[]);
    part.extend_from_slice(&[0; FRAME - 1]);
    assert_eq!(r.request(&part, FRAME), Err(BAD_PARAMETERS), "no whole frame");
    let mut unknown = req(&[frame(MSG_READ_DATA)]);
    unknown[0] = 9;
    assert_eq!(r.request(&unknown, FRAME), Err(BAD_PARAMETERS), "unknown command");
    assert_eq!(
        r.request(&req(&[frame(MSG_WRITE_DATA), frame(MSG_READ_DATA)]), FRAME),
        Err(BAD_PARAMETERS),
        "frames of different types"
    );
    assert_eq!(r.request(&req(&[frame(0x0500)]), FRAME), Err(GENERIC), "unknown message type");
    let mut info = vec![0u8; REQ_HEAD];
    info[..2].copy_from_slice(&CMD_GET_DEV_INFO.to_ne_bytes());
    let got = r.request(&info, DEV_INFO_LEN).unwrap();
    assert_eq!((got.len(), got[16], got[17], got[18]), (DEV_INFO_LEN, SIZE_MULT, 1, 0));
    assert_eq!(r.request(&info, DEV_INFO_LEN + 1), Err(BAD_PARAMETERS));
    assert_eq!(r.request(&info, usize::MAX), Err(BAD_PARAMETERS));
    info.push(0);
    assert_eq!(r.request(&info, DEV_INFO_LEN), Err(BAD_PARAMETERS));
}

#[test]
fn a_write_at_the_end_of_the_counter_fails() {
    let file = tmpdir("rpmb-expired").join("rpmb.bin");
    let mut r = Rpmb::new(file);
    r.request(&req(&[key_frame()]), FRAME).unwrap();
    r.state.as_mut().unwrap().counter = u32::MAX;
    let mut w = frame(MSG_WRITE_DATA);
    w[COUNTER..COUNTER + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let mac = mac_with_key(&[&w]);
    w[KEY_MAC..KEY_MAC + 32].copy_from_slice(&mac);
    let out = r.request(&req(&[w]), FRAME).unwrap();
    assert_eq!(result(&out), RES_GENERAL_FAILURE | RES_COUNTER_EXPIRED);
}

#[test]
fn a_linked_or_foreign_file_is_refused_and_kept() {
    let dir = tmpdir("rpmb-link");
    let target = dir.join("target");
    std::fs::write(&target, b"not rpmb").unwrap();
    let link = dir.join("rpmb.bin");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut r = Rpmb::new(link.clone());
    for _ in 0..2 {
        assert_eq!(r.request(&req(&[key_frame()]), FRAME), Err(GENERIC));
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"not rpmb");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    // A regular file that is not an image is not silently reset either.
    let other = dir.join("other.bin");
    std::fs::write(&other, vec![1u8; 100]).unwrap();
    let mut r = Rpmb::new(other.clone());
    assert_eq!(r.request(&req(&[key_frame()]), FRAME), Err(GENERIC));
    assert_eq!(std::fs::read(&other).unwrap(), vec![1u8; 100]);
    // A stale temporary that is a link is replaced, its target kept.
    let fresh = dir.join("fresh.bin");
    std::os::unix::fs::symlink(&target, dir.join("fresh.bin.tmp")).unwrap();
    let mut r = Rpmb::new(fresh.clone());
    assert_eq!(result(&r.request(&req(&[key_frame()]), FRAME).unwrap()), RES_OK);
    assert_eq!(std::fs::read(&target).unwrap(), b"not rpmb");
    assert_eq!(std::fs::metadata(&fresh).unwrap().len(), IMAGE_LEN as u64);
    assert!(!dir.join("fresh.bin.tmp").exists());
}

#[test]
fn a_failed_save_does_not_leave_unsaved_state_behind() {
    let dir = tmpdir("rpmb-save").join("d");
    std::fs::create_dir(&dir).unwrap();
    let mut r = Rpmb::new(dir.join("rpmb.bin"));
    let c = r.request(&req(&[frame(MSG_GET_WRITE_COUNTER)]), FRAME).unwrap();
    assert_eq!(result(&c), RES_KEY_NOT_PROGRAMMED);
    // The key cannot be kept, so it must not count as programmed either.
    std::fs::remove_dir(&dir).unwrap();
    assert_eq!(r.request(&req(&[key_frame()]), FRAME), Err(GENERIC));
    std::fs::create_dir(&dir).unwrap();
    let c = r.request(&req(&[frame(MSG_GET_WRITE_COUNTER)]), FRAME).unwrap();
    assert_eq!(result(&c), RES_KEY_NOT_PROGRAMMED);
    assert_eq!(result(&r.request(&req(&[key_frame()]), FRAME).unwrap()), RES_OK);
}

/// The secure world's RPMB code (oxtee-core) against this emulation, as
/// they meet over OPTEE_RPC_CMD_RPMB: key programmed once, a file system
/// written, both sides restarted, everything read back.
#[test]
fn the_secure_sides_file_system_over_this_emulation_across_restarts() {
    use oxtee_abi::tee::TeeResult;
    use oxtee_core::storage::backend::Backend;
    use oxtee_core::storage::keys::rpmb_key;
    use oxtee_core::storage::rpmb::{Device, Io, Rpmb as SecureRpmb, RpmbTransport};

    struct Supp(Rpmb);
    impl RpmbTransport for Supp {
        fn request(&mut self, req: &[u8], rsp: &mut [u8]) -> Result<(), TeeResult> {
            let out = self.0.request(req, rsp.len()).map_err(TeeResult)?;
            let n = out.len().min(rsp.len());
            rsp[..n].copy_from_slice(&out[..n]);
            Ok(())
        }
    }
    let mut seed = 1u8;
    let mut rand = move |b: &mut [u8]| {
        for x in b {
            seed = seed.wrapping_mul(73).wrapping_add(41);
            *x = seed;
        }
    };
    let file = tmpdir("rpmb-interop").join("rpmb.bin");
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    {
        let mut supp = Supp(Rpmb::new(file.clone()));
        let mut secure = SecureRpmb::new(Device::new(rpmb_key(&[3; 32]), true));
        let mut fs = secure.fs(Io { t: &mut supp, rand: &mut rand });
        let fd = fs.create("dir/obj").unwrap();
        fs.write(fd, 0, &data).unwrap();
        fs.close(fd).unwrap();
        fs.rename("dir/obj", "dir/obj2", false).unwrap();
        let a = oxtee_core::storage::rpmb::Anchor { generation: 5, hash: [6; 32] };
        secure.dev.anchor_write(&mut Io { t: &mut supp, rand: &mut rand }, &a).unwrap();
    }
    let mut supp = Supp(Rpmb::new(file.clone()));
    let mut secure = SecureRpmb::new(Device::new(rpmb_key(&[3; 32]), true));
    let mut fs = secure.fs(Io { t: &mut supp, rand: &mut rand });
    let fd = fs.open("dir/obj2").unwrap();
    let mut back = vec![0u8; 4000];
    assert_eq!(fs.read(fd, 0, &mut back), Ok(3000));
    assert_eq!(&back[..3000], &data[..]);
    let mut names = Vec::new();
    fs.list("dir", &mut |n| names.push(n.to_string())).unwrap();
    assert_eq!(names, ["obj2"]);
    let a = secure.dev.anchor_read(&mut Io { t: &mut supp, rand: &mut rand }).unwrap().unwrap();
    assert_eq!(a.generation, 5);
    // The key was programmed by the first boot only.
    let st = supp.0.state.as_ref().unwrap();
    assert_eq!(st.key, Some(rpmb_key(&[3; 32]).0));
    assert!(st.counter > 3);
    // A secure world with another key is refused, not served.
    let mut other = SecureRpmb::new(Device::new(rpmb_key(&[4; 32]), true));
    let mut fs = other.fs(Io { t: &mut supp, rand: &mut rand });
    assert_eq!(fs.open("dir/obj2").err(), Some(TeeResult::ERROR_SECURITY));
}
