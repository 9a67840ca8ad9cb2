//! example-signature: for ECDSA P-256 and RSA-2048 (PKCS #1 v1.5), has
//! the signature TA generate a key pair, sign a message and verify it;
//! checks that the TA refuses the signature for a modified message or a
//! modified signature, and verifies the TA's signature on this side with
//! RustCrypto (`p256`, `rsa`) over the public key the TA exports: an
//! interoperability check against an independent implementation. The
//! ECDSA key is generated in the TA; the RSA key pair is imported from
//! here (a fixed example key, `rsa-2048-example-key.pem`: generating one in
//! the TA takes from under a second to a minute in QEMU), and the TA's
//! exported public key must be the imported one.
//! Exits 0 only if every check passed.
#![forbid(unsafe_code)]

use oxtee_teec::{Context, Dir, Operation, Param, ParamNone, ParamTmpRef, ParamValue, Session, Uuid};
use signature_proto::{
    Alg, CMD_GENERATE_KEY, CMD_GET_PUBLIC_KEY, CMD_IMPORT_RSA_KEY, CMD_SIGN, CMD_VERIFY, RSA_KEYPAIR_MAX,
    RSA_PUBLIC_MAX,
};
use std::process::ExitCode;
use std::time::Instant;

const TEE_ERROR_BAD_STATE: u32 = 0xffff_0007;
const TEE_ERROR_SHORT_BUFFER: u32 = 0xffff_0010;
const TEE_ERROR_SIGNATURE_INVALID: u32 = 0xffff_3072;

const MESSAGE: &[u8] = b"oxtee signature example: signed in the TEE, checked on both sides";

fn alg_param<'a>(alg: Alg) -> Param<'a> {
    ParamValue::new(alg as u32, 0, Dir::In)
}

/// An example RSA-2048 key pair (made with `openssl genrsa 2048` for this
/// example only; it protects nothing).
const RSA_KEY_PEM: &str = include_str!("rsa-2048-example-key.pem");

/// The example key pair's components for `CMD_IMPORT_RSA_KEY`, and its
/// public key as the TA exports it.
fn rsa_example_key() -> Result<(Vec<u8>, Vec<u8>), String> {
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(RSA_KEY_PEM).map_err(|e| format!("example key: {e}"))?;
    let [p, q] = key.primes() else { return Err("example key: not two primes".into()) };
    let (dp, dq, qinv) = match (key.dp(), key.dq(), key.crt_coefficient()) {
        (Some(dp), Some(dq), Some(qinv)) => (dp, dq, qinv),
        _ => return Err("example key: no CRT values".into()),
    };
    let parts: Vec<Vec<u8>> =
        [key.n(), key.e(), key.d(), p, q, dp, dq, &qinv].iter().map(|x| x.to_bytes_be()).collect();
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let mut enc = vec![0u8; RSA_KEYPAIR_MAX];
    let n = signature_proto::encode_fields(&refs, &mut enc).ok_or("example key: does not fit")?;
    enc.truncate(n);
    let mut public = vec![0u8; RSA_PUBLIC_MAX];
    let m = signature_proto::encode_rsa_public(&parts[0], &parts[1], &mut public).ok_or("public key: does not fit")?;
    public.truncate(m);
    Ok((enc, public))
}

fn import_rsa(s: &mut Session, enc: &[u8]) -> oxtee_teec::Result<()> {
    let mut buf = enc.to_vec();
    let mut op =
        Operation::new(0, ParamTmpRef::new_input(&mut buf), ParamNone::new(), ParamNone::new(), ParamNone::new());
    s.invoke_command(CMD_IMPORT_RSA_KEY, &mut op)
}

fn generate(s: &mut Session, alg: Alg) -> oxtee_teec::Result<()> {
    let mut op = Operation::new(0, alg_param(alg), ParamNone::new(), ParamNone::new(), ParamNone::new());
    s.invoke_command(CMD_GENERATE_KEY, &mut op)
}

/// The public key, into a buffer of `room` bytes: the bytes, or the error
/// and the size the TA reported.
fn public_key(s: &mut Session, alg: Alg, room: usize) -> Result<Vec<u8>, (oxtee_teec::Error, usize)> {
    let mut buf = vec![0u8; room];
    let mut op =
        Operation::new(0, alg_param(alg), ParamTmpRef::new_output(&mut buf), ParamNone::new(), ParamNone::new());
    let res = s.invoke_command(CMD_GET_PUBLIC_KEY, &mut op);
    let size = op.parameters()[1].size().unwrap_or(0);
    drop(op);
    match res {
        Ok(()) => {
            buf.truncate(size);
            Ok(buf)
        }
        Err(e) => Err((e, size)),
    }
}

fn sign(s: &mut Session, alg: Alg, message: &[u8]) -> oxtee_teec::Result<Vec<u8>> {
    let mut msg = message.to_vec();
    let mut sig = vec![0u8; 512];
    let mut op = Operation::new(
        0,
        alg_param(alg),
        ParamTmpRef::new_input(&mut msg),
        ParamTmpRef::new_output(&mut sig),
        ParamNone::new(),
    );
    s.invoke_command(CMD_SIGN, &mut op)?;
    let n = op.parameters()[2].size().unwrap_or(0);
    drop(op);
    sig.truncate(n);
    Ok(sig)
}

fn verify(s: &mut Session, alg: Alg, message: &[u8], signature: &[u8]) -> oxtee_teec::Result<()> {
    let (mut msg, mut sig) = (message.to_vec(), signature.to_vec());
    let mut op = Operation::new(
        0,
        alg_param(alg),
        ParamTmpRef::new_input(&mut msg),
        ParamTmpRef::new_input(&mut sig),
        ParamNone::new(),
    );
    s.invoke_command(CMD_VERIFY, &mut op)
}

/// Verification on this side, with RustCrypto, of a signature over
/// `message` under the public key as the TA encoded it.
fn host_verify(alg: Alg, public: &[u8], message: &[u8], signature: &[u8]) -> Result<(), String> {
    use p256::ecdsa::signature::Verifier as _;
    match alg {
        Alg::EcdsaP256Sha256 => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public).map_err(|e| format!("public key: {e}"))?;
            let sig = p256::ecdsa::Signature::from_slice(signature).map_err(|e| format!("signature: {e}"))?;
            key.verify(message, &sig).map_err(|e| format!("p256: {e}"))
        }
        Alg::RsaPkcs1Sha256 => {
            let (n, e) = signature_proto::decode_rsa_public(public).ok_or("public key: bad encoding")?;
            let key = rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(n), rsa::BigUint::from_bytes_be(e))
                .map_err(|e| format!("public key: {e}"))?;
            let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
            let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(|e| format!("signature: {e}"))?;
            key.verify(message, &sig).map_err(|e| format!("rsa: {e}"))
        }
    }
}

struct Checks {
    failed: u32,
}

impl Checks {
    fn check(&mut self, what: &str, ok: bool) {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            self.failed += 1;
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn one_algorithm(c: &mut Checks, s: &mut Session, alg: Alg) -> oxtee_teec::Result<()> {
    println!("--- {}", alg.name());
    let before = sign(s, alg, MESSAGE);
    c.check(
        &format!("signing before a key exists is refused: {before:?}"),
        before.is_err_and(|e| e.code == TEE_ERROR_BAD_STATE),
    );

    let mut expected_public = None;
    match alg {
        Alg::EcdsaP256Sha256 => {
            let t = Instant::now();
            generate(s, alg)?;
            println!("the TA generated a key pair in {} ms", t.elapsed().as_millis());
        }
        Alg::RsaPkcs1Sha256 => {
            let (enc, public) = rsa_example_key().map_err(|e| {
                println!("FAIL {e}");
                oxtee_teec::Error::api(oxtee_teec::TEEC_ERROR_GENERIC)
            })?;
            let truncated = import_rsa(s, &enc[..enc.len() - 1]);
            c.check(
                &format!("a truncated key pair is refused: {truncated:?}"),
                truncated.is_err_and(|e| e.code == oxtee_teec::TEEC_ERROR_BAD_PARAMETERS),
            );
            import_rsa(s, &enc)?;
            println!("imported the example key pair ({} bytes of components)", enc.len());
            expected_public = Some(public);
        }
    }

    let short = public_key(s, alg, 1);
    c.check(
        &format!("a 1-byte buffer for the public key: {:?}", short.as_ref().map_err(|(e, n)| (e, n))),
        matches!(short, Err((e, n)) if e.code == TEE_ERROR_SHORT_BUFFER && n > 1 && n <= RSA_PUBLIC_MAX),
    );
    let public = public_key(s, alg, RSA_PUBLIC_MAX).map_err(|(e, _)| e)?;
    println!("public key ({} bytes): {}...", public.len(), hex(&public[..16.min(public.len())]));
    if let Some(want) = expected_public {
        c.check("the TA's public key is the imported one", public == want);
    }

    let sig = sign(s, alg, MESSAGE)?;
    c.check(
        &format!("signature of {} bytes (want {})", sig.len(), alg.signature_len()),
        sig.len() == alg.signature_len(),
    );
    println!("signature: {}...", hex(&sig[..16.min(sig.len())]));

    let ok = verify(s, alg, MESSAGE, &sig);
    c.check(&format!("the TA verifies its signature: {ok:?}"), ok.is_ok());

    let mut changed = MESSAGE.to_vec();
    changed[0] ^= 0x20;
    let bad = verify(s, alg, &changed, &sig);
    c.check(
        &format!("the TA refuses it for a modified message: {bad:?}"),
        bad.is_err_and(|e| e.code == TEE_ERROR_SIGNATURE_INVALID),
    );
    let mut bad_sig = sig.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 1;
    let bad = verify(s, alg, MESSAGE, &bad_sig);
    c.check(
        &format!("the TA refuses a modified signature: {bad:?}"),
        bad.is_err_and(|e| e.code == TEE_ERROR_SIGNATURE_INVALID),
    );

    let host = host_verify(alg, &public, MESSAGE, &sig);
    c.check(&format!("RustCrypto verifies the TA's signature with the exported key: {host:?}"), host.is_ok());
    let host_bad = host_verify(alg, &public, &changed, &sig);
    c.check(&format!("RustCrypto refuses it for the modified message: {host_bad:?}"), host_bad.is_err());

    // A new key: the old signature no longer verifies in the TA.
    if alg == Alg::EcdsaP256Sha256 {
        generate(s, alg)?;
    } else {
        // No second RSA key at hand (making one in the TA is slow): a
        // refused import must leave the session's key as it was.
        let refused = import_rsa(s, &[0, 1, 1]);
        c.check(&format!("a malformed import is refused: {refused:?}"), refused.is_err());
        let still = verify(s, alg, MESSAGE, &sig);
        c.check(&format!("and the key stays: the signature still verifies: {still:?}"), still.is_ok());
        return Ok(());
    }
    let stale = verify(s, alg, MESSAGE, &sig);
    c.check(
        &format!("after a new key the old signature is refused: {stale:?}"),
        stale.is_err_and(|e| e.code == TEE_ERROR_SIGNATURE_INVALID),
    );
    Ok(())
}

fn run() -> oxtee_teec::Result<u32> {
    let mut c = Checks { failed: 0 };
    let uuid =
        Uuid::parse(signature_proto::UUID).ok_or(oxtee_teec::Error::api(oxtee_teec::TEEC_ERROR_BAD_PARAMETERS))?;
    let ctx = Context::new()?;
    let mut s = ctx.open_session(uuid)?;
    println!("opened a session to the signature TA {}", signature_proto::UUID);
    for alg in Alg::ALL {
        one_algorithm(&mut c, &mut s, alg)?;
    }
    Ok(c.failed)
}

fn main() -> ExitCode {
    match run() {
        Ok(0) => {
            println!("example-signature: all checks passed");
            ExitCode::SUCCESS
        }
        Ok(n) => {
            println!("example-signature: {n} check(s) failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("example-signature: {e}");
            ExitCode::FAILURE
        }
    }
}
