//! Example TA: the SDK's crypto and arithmetic API on known answers.
//! Opening a session runs every check and fails (`TEE_ERROR_GENERIC`,
//! the failed check on the secure console) if one does not hold; command
//! 0 runs them again and answers the number passed in p0 value `a`.
//!
//! Build: `cd ta && cargo build --release -p oxtee-utee --example crypto`
//! (then sign it with `cargo xtask sign-ta`, see ../README.md).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use oxtee_utee::{
    AE, AlgorithmId, Asymmetric, AttributeId, AttributeMemref, AttributeValue, BigInt, Cipher, DeriveKey, Digest,
    ElementId, ErrorKind, GenericObject, Mac, OperationMode, ParamType, Parameters, Random, Result, TransientObject,
    TransientObjectType, ta_close_session, ta_create, ta_destroy, ta_invoke_command, ta_open_session, trace_println,
};

oxtee_utee::ta_config! {
    uuid: "0b7e0e2a-8c1f-4d3e-9a55-6f0c0de0c0de",
    flags: SINGLE_INSTANCE | MULTI_SESSION,
    stack_size: 16 * 1024,
    data_size: 128 * 1024,
    version: "1.0",
    description: "oxtee-utee crypto example",
}

fn unhex(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let nib = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => 0,
    };
    b.chunks(2).map(|p| (nib(p[0]) << 4) | nib(p[1])).collect()
}

fn expect(what: &str, ok: bool) -> Result<()> {
    if ok {
        Ok(())
    } else {
        trace_println!("crypto example: {what}: wrong answer");
        Err(ErrorKind::Generic.into())
    }
}

/// SHA-256("abc") in two pieces (FIPS 180-2).
fn sha256() -> Result<()> {
    let op = Digest::allocate(AlgorithmId::Sha256)?;
    op.update(b"a");
    let mut hash = [0u8; 32];
    let n = op.do_final(b"bc", &mut hash)?;
    let short = op.do_final(b"", &mut [0u8; 16]);
    expect("SHA-256", hash[..n] == unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")[..])?;
    expect("SHA-256 short buffer", short.is_err_and(|e| e.kind() == ErrorKind::ShortBuffer))
}

fn secret(ty: TransientObjectType, bits: usize, key: &[u8]) -> Result<TransientObject> {
    let mut obj = TransientObject::allocate(ty, bits)?;
    obj.populate(&[AttributeMemref::from_ref(AttributeId::SecretValue, key).into()])?;
    Ok(obj)
}

/// AES-128-CBC, SP 800-38A F.2.1, fed in chunks that split blocks.
fn aes_cbc() -> Result<()> {
    let key = secret(TransientObjectType::Aes, 128, &unhex("2b7e151628aed2a6abf7158809cf4f3c"))?;
    let op = Cipher::allocate(AlgorithmId::AesCbcNopad, OperationMode::Encrypt, 128)?;
    op.set_key(&key)?;
    op.init(&unhex("000102030405060708090a0b0c0d0e0f"));
    let pt = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    let mut ct = [0u8; 32];
    let mut n = op.update(&pt[..5], &mut ct)?;
    n += op.update(&pt[5..25], &mut ct[n..])?;
    n += op.do_final(&pt[25..], &mut ct[n..])?;
    let want = unhex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2");
    expect("AES-128-CBC", ct[..n] == want[..])
}

/// HMAC-SHA-256, RFC 4231 test case 4.
fn hmac() -> Result<()> {
    let key =
        secret(TransientObjectType::HmacSha256, 200, &unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"))?;
    let op = Mac::allocate(AlgorithmId::HmacSha256, 256)?;
    op.set_key(&key)?;
    op.init(&[]);
    op.update(&[0xcd; 20]);
    let want = unhex("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    op.compare_final(&[0xcd; 30], &want)?;
    op.init(&[]);
    expect("HMAC mismatch", op.compare_final(&[0xcd; 50], &[0u8; 32]).is_err_and(|e| e.kind() == ErrorKind::MacInvalid))
}

/// AES-128-GCM, test case 2 of the GCM specification.
fn aes_gcm() -> Result<()> {
    let key = secret(TransientObjectType::Aes, 128, &[0; 16])?;
    let enc = AE::allocate(AlgorithmId::AesGcm, OperationMode::Encrypt, 128)?;
    enc.set_key(&key)?;
    enc.init(&[0; 12], 128, 0, 0)?;
    let (mut ct, mut tag) = ([0u8; 16], [0u8; 16]);
    let (n, t) = enc.encrypt_final(&[0; 16], &mut ct, &mut tag)?;
    expect("AES-GCM ciphertext", ct[..n] == unhex("0388dace60b6a392f328c2b971b2fe78")[..])?;
    expect("AES-GCM tag", tag[..t] == unhex("ab6e47d42cec13bdf53a67b21257bddf")[..])?;
    let dec = AE::allocate(AlgorithmId::AesGcm, OperationMode::Decrypt, 128)?;
    dec.set_key(&key)?;
    dec.init(&[0; 12], 128, 0, 0)?;
    let mut pt = [0u8; 16];
    tag[0] ^= 1;
    expect("AES-GCM bad tag", dec.decrypt_final(&ct, &mut pt, &tag).is_err_and(|e| e.kind() == ErrorKind::MacInvalid))
}

/// ECDSA P-256: a fresh key signs, the signature verifies, a changed
/// digest does not.
fn ecdsa() -> Result<()> {
    let key = TransientObject::allocate(TransientObjectType::EcdsaKeypair, 256)?;
    key.generate_key(
        256,
        &[AttributeValue::from_value(AttributeId::EccCurve, ElementId::EccCurveNistP256 as u32, 0).into()],
    )?;
    let mut digest = [7u8; 32];
    let sign = Asymmetric::allocate(AlgorithmId::EcDsaSha256, OperationMode::Sign, 256)?;
    sign.set_key(&key)?;
    let mut sig = [0u8; 64];
    let n = sign.sign_digest(&[], &digest, &mut sig)?;
    let verify = Asymmetric::allocate(AlgorithmId::EcDsaSha256, OperationMode::Verify, 256)?;
    verify.set_key(&key)?;
    verify.verify_digest(&[], &digest, &sig[..n])?;
    digest[0] ^= 1;
    expect(
        "ECDSA bad digest",
        verify.verify_digest(&[], &digest, &sig[..n]).is_err_and(|e| e.kind() == ErrorKind::SignatureInvalid),
    )
}

/// X25519 both ways gives one secret.
fn x25519() -> Result<()> {
    let gen_key = || -> Result<TransientObject> {
        let k = TransientObject::allocate(TransientObjectType::X25519Keypair, 256)?;
        k.generate_key(256, &[])?;
        Ok(k)
    };
    let (a, b) = (gen_key()?, gen_key()?);
    let shared = |own: &TransientObject, peer: &TransientObject| -> Result<Vec<u8>> {
        let mut public = [0u8; 32];
        let n = peer.ref_attribute(AttributeId::X25519PublicValue, &mut public)?;
        let op = DeriveKey::allocate(AlgorithmId::X25519, 256)?;
        op.set_key(own)?;
        let mut out = TransientObject::allocate(TransientObjectType::GenericSecret, 256)?;
        op.derive(&[AttributeMemref::from_ref(AttributeId::X25519PublicValue, &public[..n]).into()], &mut out);
        let mut s = [0u8; 32];
        let n = out.ref_attribute(AttributeId::SecretValue, &mut s)?;
        Ok(s[..n].to_vec())
    };
    expect("X25519", shared(&a, &b)? == shared(&b, &a)?)
}

/// Operation state copy, digest extraction, and the operation info.
fn copy_extract_info() -> Result<()> {
    let want = unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    let a = Digest::allocate(AlgorithmId::Sha256)?;
    let mut b = Digest::allocate(AlgorithmId::Sha256)?;
    a.update(b"a");
    b.copy(&a);
    let mut h = [0u8; 32];
    let n = b.do_final(b"bc", &mut h)?;
    expect("copied digest", h[..n] == want[..])?;
    a.update(b"bc");
    let (mut x, mut y) = ([0u8; 20], [0u8; 20]);
    let (n1, n2) = (a.extract(&mut x), a.extract(&mut y));
    expect("digest extract", n1 == 20 && n2 == 12 && x[..] == want[..20] && y[..12] == want[20..])?;
    let key = secret(TransientObjectType::Aes, 128, &[1; 16])?;
    let op = Cipher::allocate(AlgorithmId::AesCtr, OperationMode::Decrypt, 256)?;
    op.set_key(&key)?;
    let mut buf = [0u8; 64];
    let info = op.info_multiple(&mut buf)?;
    let i = op.info();
    expect(
        "operation info",
        info.number_of_keys() == 1
            && info.keys[0].key_size == 128
            && info.max_key_size == 256
            && i.key_size() == 128
            && i.mode() == OperationMode::Decrypt as u32
            && buf[28..32] == 1u32.to_ne_bytes(),
    )
}

/// AES-XTS (IEEE 1619 vector 1) and AES-CTS (RFC 3962), fed in pieces:
/// the modes that keep two blocks back.
fn xts_cts() -> Result<()> {
    let (k1, k2) = (secret(TransientObjectType::Aes, 128, &[0; 16])?, secret(TransientObjectType::Aes, 128, &[0; 16])?);
    let xts = Cipher::allocate(AlgorithmId::AesXts, OperationMode::Encrypt, 256)?;
    expect("XTS same key", xts.set_key_2(&k1, &k1).is_err_and(|e| e.kind() == ErrorKind::Security))?;
    xts.set_key_2(&k1, &k2)?;
    xts.init(&[0; 16]);
    let mut ct = [0u8; 32];
    let mut n = xts.update(&[0; 7], &mut ct)?;
    n += xts.update(&[0; 20], &mut ct[n..])?;
    n += xts.do_final(&[0; 5], &mut ct[n..])?;
    let want = unhex("917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e");
    expect("AES-XTS", ct[..n] == want[..])?;

    let key = secret(TransientObjectType::Aes, 128, b"chicken teriyaki")?;
    let cts = Cipher::allocate(AlgorithmId::AesCts, OperationMode::Encrypt, 128)?;
    cts.set_key(&key)?;
    cts.init(&[0; 16]);
    let pt = b"I would like the General Gau's ";
    let mut out = [0u8; 31];
    let mut n = cts.update(&pt[..5], &mut out)?;
    n += cts.update(&pt[5..25], &mut out[n..])?;
    expect("AES-CTS holds two blocks", n == 0 && cts.final_size(6) == 31)?;
    n += cts.do_final(&pt[25..], &mut out[n..])?;
    let want = unhex("fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5");
    expect("AES-CTS", out[..n] == want[..])
}

/// AES-CCM, RFC 3610 packet vector 1, payload in pieces.
fn aes_ccm() -> Result<()> {
    let key = secret(TransientObjectType::Aes, 128, &unhex("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"))?;
    let op = AE::allocate(AlgorithmId::AesCcm, OperationMode::Encrypt, 128)?;
    op.set_key(&key)?;
    let pt = unhex("08090a0b0c0d0e0f101112131415161718191a1b1c1d1e");
    op.init(&unhex("00000003020100a0a1a2a3a4a5"), 64, 8, pt.len())?;
    op.update_aad(&unhex("0001020304050607"));
    let (mut ct, mut tag) = ([0u8; 23], [0u8; 8]);
    let mut n = op.update(&pt[..3], &mut ct)?;
    n += op.update(&pt[3..19], &mut ct[n..])?;
    let (m, t) = op.encrypt_final(&pt[19..], &mut ct[n..], &mut tag)?;
    n += m;
    expect("AES-CCM", ct[..n] == unhex("588c979a61c663d2f066d0c2c0f989806d5f6b61dac384")[..])?;
    expect("AES-CCM tag", tag[..t] == unhex("17e8d12cfdf926e0")[..])
}

/// RSA-1024: generated key, PKCS#1 v1.5 signature, OAEP round trip.
fn rsa() -> Result<()> {
    let key = TransientObject::allocate(TransientObjectType::RsaKeypair, 1024)?;
    key.generate_key(1024, &[])?;
    let digest = [9u8; 32];
    let sign = Asymmetric::allocate(AlgorithmId::RsassaPkcs1V15Sha256, OperationMode::Sign, 1024)?;
    sign.set_key(&key)?;
    let mut sig = [0u8; 128];
    expect(
        "RSA short buffer",
        sign.sign_digest(&[], &digest, &mut sig[..100]).is_err_and(|e| e.kind() == ErrorKind::ShortBuffer),
    )?;
    let n = sign.sign_digest(&[], &digest, &mut sig)?;
    let verify = Asymmetric::allocate(AlgorithmId::RsassaPkcs1V15Sha256, OperationMode::Verify, 1024)?;
    verify.set_key(&key)?;
    verify.verify_digest(&[], &digest, &sig[..n])?;
    let enc = Asymmetric::allocate(AlgorithmId::RsaesPkcs1OAepMgf1Sha256, OperationMode::Encrypt, 1024)?;
    enc.set_key(&key)?;
    let ct = enc.encrypt(&[], b"attack at dawn")?;
    let dec = Asymmetric::allocate(AlgorithmId::RsaesPkcs1OAepMgf1Sha256, OperationMode::Decrypt, 1024)?;
    dec.set_key(&key)?;
    expect("RSA-OAEP", ct.len() == 128 && dec.decrypt(&[], &ct)? == b"attack at dawn")
}

/// Random bytes, and the arithmetic API: 2^127 - 1 is prime, 2^127 + 1 is not.
fn random_and_bigint() -> Result<()> {
    let mut r = [0u8; 32];
    Random::generate(&mut r);
    expect("random", r.iter().any(|b| *b != 0))?;
    let mut m = BigInt::new(128);
    m.convert_from_octet_string(&unhex("7fffffffffffffffffffffffffffffff"), 1)?;
    let mut two = BigInt::new(32);
    two.convert_from_s32(2);
    expect("BigInt prime", m.is_probable_prime(80) == 1 && BigInt::add(&m, &two).is_probable_prime(80) == 0)
}

const CHECKS: usize = 11;

type Check = (&'static str, fn() -> Result<()>);

fn run_all() -> u32 {
    let checks: [Check; CHECKS] = [
        ("SHA-256", sha256),
        ("AES-CBC", aes_cbc),
        ("HMAC", hmac),
        ("AES-GCM", aes_gcm),
        ("ECDSA", ecdsa),
        ("X25519", x25519),
        ("random/BigInt", random_and_bigint),
        ("copy/extract/info", copy_extract_info),
        ("XTS/CTS", xts_cts),
        ("AES-CCM", aes_ccm),
        ("RSA", rsa),
    ];
    let mut passed = 0;
    for (name, f) in checks {
        match f() {
            Ok(()) => passed += 1,
            Err(e) => trace_println!("crypto example: {name} failed: {e:?}"),
        }
    }
    passed
}

#[ta_create]
fn create() -> Result<()> {
    Ok(())
}

#[ta_destroy]
fn destroy() {}

#[ta_open_session]
fn open_session(_params: &mut Parameters) -> Result<()> {
    let passed = run_all();
    trace_println!("crypto example: {passed} of {CHECKS} checks passed");
    if passed as usize == CHECKS { Ok(()) } else { Err(ErrorKind::Generic.into()) }
}

#[ta_close_session]
fn close_session() {}

#[ta_invoke_command]
fn invoke_command(cmd: u32, params: &mut Parameters) -> Result<()> {
    match cmd {
        0 => {
            params.check_types(ParamType::ValueOutput, ParamType::None, ParamType::None, ParamType::None)?;
            let passed = run_all();
            params.0.as_value()?.set_a(passed);
            Ok(())
        }
        _ => Err(ErrorKind::NotSupported.into()),
    }
}
