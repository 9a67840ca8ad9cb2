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

type Check = (&'static str, fn() -> Result<()>);

fn run_all() -> u32 {
    let checks: [Check; 7] = [
        ("SHA-256", sha256),
        ("AES-CBC", aes_cbc),
        ("HMAC", hmac),
        ("AES-GCM", aes_gcm),
        ("ECDSA", ecdsa),
        ("X25519", x25519),
        ("random/BigInt", random_and_bigint),
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
    trace_println!("crypto example: {passed} of 7 checks passed");
    if passed == 7 { Ok(()) } else { Err(ErrorKind::Generic.into()) }
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
