//! The signature example TA: per session, an ECDSA P-256 and an RSA-2048
//! key pair generated in the TEE; signs SHA-256 digests of client data,
//! verifies signatures, and hands out the public keys so that the client
//! can verify on its own. The private keys never leave the TA.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

use oxtee_utee::{
    AlgorithmId, Asymmetric, AttributeId, AttributeMemref, AttributeValue, Digest, ElementId, ErrorKind, GenericObject,
    OperationMode, ParamType, Parameters, Result, TransientObject, TransientObjectType, ta_close_session, ta_create,
    ta_destroy, ta_invoke_command, ta_open_session, trace_println,
};
use signature_proto::{
    Alg, CMD_GENERATE_KEY, CMD_GET_PUBLIC_KEY, CMD_IMPORT_RSA_KEY, CMD_SIGN, CMD_VERIFY, EC_PUBLIC_LEN, MAX_MESSAGE,
    RSA_BITS, RSA_KEYPAIR_MAX, RSA_PUBLIC_MAX, RsaKeyField,
};

oxtee_utee::ta_config! {
    uuid: signature_proto::UUID,
    flags: SINGLE_INSTANCE | MULTI_SESSION,
    stack_size: 16 * 1024,
    data_size: 64 * 1024,
    version: "1.0",
    description: "oxtee example: ECDSA and RSA signatures",
}

/// One client's key pairs, by algorithm.
#[derive(Default)]
struct Session {
    ecdsa: Option<TransientObject>,
    rsa: Option<TransientObject>,
}

impl Session {
    fn key(&self, alg: Alg) -> Result<&TransientObject> {
        let k = match alg {
            Alg::EcdsaP256Sha256 => &self.ecdsa,
            Alg::RsaPkcs1Sha256 => &self.rsa,
        };
        k.as_ref().ok_or_else(|| ErrorKind::BadState.into())
    }
}

#[ta_create]
fn create() -> Result<()> {
    Ok(())
}

#[ta_destroy]
fn destroy() {}

#[ta_open_session]
fn open_session(_params: &mut Parameters, _session: &mut Session) -> Result<()> {
    Ok(())
}

#[ta_close_session]
fn close_session(_session: &mut Session) {}

#[ta_invoke_command]
fn invoke_command(session: &mut Session, cmd: u32, params: &mut Parameters) -> Result<()> {
    match cmd {
        CMD_GENERATE_KEY => {
            params.check_types(ParamType::ValueInput, ParamType::None, ParamType::None, ParamType::None)?;
            let alg = alg_param(params)?;
            generate(session, alg)
        }
        CMD_GET_PUBLIC_KEY => {
            params.check_types(ParamType::ValueInput, ParamType::MemrefOutput, ParamType::None, ParamType::None)?;
            let alg = alg_param(params)?;
            public_key(session.key(alg)?, alg, params)
        }
        CMD_SIGN => {
            params.check_types(
                ParamType::ValueInput,
                ParamType::MemrefInput,
                ParamType::MemrefOutput,
                ParamType::None,
            )?;
            let alg = alg_param(params)?;
            sign(session.key(alg)?, alg, params)
        }
        CMD_VERIFY => {
            params.check_types(
                ParamType::ValueInput,
                ParamType::MemrefInput,
                ParamType::MemrefInput,
                ParamType::None,
            )?;
            let alg = alg_param(params)?;
            verify(session.key(alg)?, alg, params)
        }
        CMD_IMPORT_RSA_KEY => {
            params.check_types(ParamType::MemrefInput, ParamType::None, ParamType::None, ParamType::None)?;
            import_rsa(session, params)
        }
        _ => Err(ErrorKind::NotSupported.into()),
    }
}

fn alg_param(params: &mut Parameters) -> Result<Alg> {
    Alg::from_u32(params.0.as_value()?.a()).ok_or_else(|| ErrorKind::BadParameters.into())
}

fn algorithm(alg: Alg) -> AlgorithmId {
    match alg {
        Alg::EcdsaP256Sha256 => AlgorithmId::EcDsaSha256,
        Alg::RsaPkcs1Sha256 => AlgorithmId::RsassaPkcs1V15Sha256,
    }
}

fn generate(session: &mut Session, alg: Alg) -> Result<()> {
    let bits = alg.key_bits();
    let key = match alg {
        Alg::EcdsaP256Sha256 => {
            let k = TransientObject::allocate(TransientObjectType::EcdsaKeypair, bits)?;
            let curve = AttributeValue::from_value(AttributeId::EccCurve, ElementId::EccCurveNistP256 as u32, 0);
            k.generate_key(bits, &[curve.into()])?;
            k
        }
        Alg::RsaPkcs1Sha256 => {
            let k = TransientObject::allocate(TransientObjectType::RsaKeypair, bits)?;
            k.generate_key(bits, &[])?;
            k
        }
    };
    trace_println!("signature: generated a {} key", alg.name());
    match alg {
        Alg::EcdsaP256Sha256 => session.ecdsa = Some(key),
        Alg::RsaPkcs1Sha256 => session.rsa = Some(key),
    }
    Ok(())
}

/// A key pair from the client, for keys made elsewhere (or too slow to
/// make here: RSA-2048 generation takes from under a second to a minute
/// in QEMU).
fn import_rsa(session: &mut Session, params: &mut Parameters) -> Result<()> {
    let mut m = params.0.as_memref()?;
    let enc = m.buffer();
    if enc.len() > RSA_KEYPAIR_MAX {
        return Err(ErrorKind::BadParameters.into());
    }
    let fields = signature_proto::decode_fields::<8>(enc).ok_or(ErrorKind::BadParameters)?;
    let id = |f: RsaKeyField| match f {
        RsaKeyField::Modulus => AttributeId::RsaModulus,
        RsaKeyField::PublicExponent => AttributeId::RsaPublicExponent,
        RsaKeyField::PrivateExponent => AttributeId::RsaPrivateExponent,
        RsaKeyField::Prime1 => AttributeId::RsaPrime1,
        RsaKeyField::Prime2 => AttributeId::RsaPrime2,
        RsaKeyField::Exponent1 => AttributeId::RsaExponent1,
        RsaKeyField::Exponent2 => AttributeId::RsaExponent2,
        RsaKeyField::Coefficient => AttributeId::RsaCoefficient,
    };
    let attrs = RsaKeyField::ALL.map(|f| AttributeMemref::from_ref(id(f), fields[f as usize]).into());
    let mut key = TransientObject::allocate(TransientObjectType::RsaKeypair, RSA_BITS)?;
    // A key of another size (or inconsistent parts) is the client's error.
    key.populate(&attrs).map_err(|_| ErrorKind::BadParameters)?;
    if key.info()?.object_size() != RSA_BITS {
        return Err(ErrorKind::BadParameters.into());
    }
    trace_println!("signature: imported an RSA-{RSA_BITS} key pair");
    session.rsa = Some(key);
    Ok(())
}

fn public_key(key: &TransientObject, alg: Alg, params: &mut Parameters) -> Result<()> {
    let mut out = params.1.as_memref()?;
    let mut enc = [0u8; RSA_PUBLIC_MAX];
    let len = match alg {
        Alg::EcdsaP256Sha256 => {
            let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
            let nx = key.ref_attribute(AttributeId::EccPublicValueX, &mut x)?;
            let ny = key.ref_attribute(AttributeId::EccPublicValueY, &mut y)?;
            signature_proto::encode_ec_public(&x[..nx], &y[..ny], &mut enc[..EC_PUBLIC_LEN])
        }
        Alg::RsaPkcs1Sha256 => {
            let (mut n, mut e) = ([0u8; 256], [0u8; 8]);
            let nn = key.ref_attribute(AttributeId::RsaModulus, &mut n)?;
            let ne = key.ref_attribute(AttributeId::RsaPublicExponent, &mut e)?;
            signature_proto::encode_rsa_public(&n[..nn], &e[..ne], &mut enc)
        }
    }
    .ok_or(ErrorKind::Generic)?;
    out.set_updated_size(len);
    let buf = out.buffer();
    if buf.len() < len {
        return Err(ErrorKind::ShortBuffer.into());
    }
    buf[..len].copy_from_slice(&enc[..len]);
    Ok(())
}

/// SHA-256 of a message parameter.
fn digest_of(params: &mut Parameters) -> Result<[u8; 32]> {
    let mut m = params.1.as_memref()?;
    let message = m.buffer();
    if message.len() > MAX_MESSAGE {
        return Err(ErrorKind::BadParameters.into());
    }
    let mut hash = [0u8; 32];
    Digest::allocate(AlgorithmId::Sha256)?.do_final(message, &mut hash)?;
    Ok(hash)
}

fn sign(key: &TransientObject, alg: Alg, params: &mut Parameters) -> Result<()> {
    let hash = digest_of(params)?;
    let mut out = params.2.as_memref()?;
    out.set_updated_size(alg.signature_len());
    let buf = out.buffer();
    if buf.len() < alg.signature_len() {
        return Err(ErrorKind::ShortBuffer.into());
    }
    let op = Asymmetric::allocate(algorithm(alg), OperationMode::Sign, alg.key_bits())?;
    op.set_key(key)?;
    let n = op.sign_digest(&[], &hash, buf)?;
    out.set_updated_size(n);
    trace_println!("signature: signed with {} ({n} bytes)", alg.name());
    Ok(())
}

fn verify(key: &TransientObject, alg: Alg, params: &mut Parameters) -> Result<()> {
    let hash = digest_of(params)?;
    let mut sig = params.2.as_memref()?;
    let op = Asymmetric::allocate(algorithm(alg), OperationMode::Verify, alg.key_bits())?;
    op.set_key(key)?;
    let res = op.verify_digest(&[], &hash, sig.buffer());
    trace_println!("signature: {} verification: {}", alg.name(), if res.is_ok() { "valid" } else { "invalid" });
    res
}

/// Host tests on the simulated TEE (see ta/README.md, "Testing a TA on
/// the host"): `cargo test -p signature-ta` in `examples/`. ECDSA only:
/// RSA-2048 needs the example's imported key (see the host program).
#[cfg(test)]
mod tests {
    use oxtee_utee::sim::{Param, Sim, TeeResult};
    use signature_proto::{Alg, CMD_GENERATE_KEY, CMD_GET_PUBLIC_KEY, CMD_SIGN, CMD_VERIFY, EC_PUBLIC_LEN};

    #[test]
    fn ecdsa_signs_and_verifies_and_rejects_a_changed_message() {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        let alg = Alg::EcdsaP256Sha256 as u32;
        let mut sig = [0u8; 64];
        let mut p = [Param::value_input(alg, 0), Param::memref_input(b"msg"), Param::memref_output(&mut sig)];
        assert_eq!(s.invoke(CMD_SIGN, &mut p).unwrap_err().code, TeeResult::ERROR_BAD_STATE, "no key yet");
        s.invoke(CMD_GENERATE_KEY, &mut [Param::value_input(alg, 0)]).unwrap();
        let mut public = [0u8; EC_PUBLIC_LEN];
        let mut p = [Param::value_input(alg, 0), Param::memref_output(&mut public)];
        s.invoke(CMD_GET_PUBLIC_KEY, &mut p).unwrap();
        assert_eq!((p[1].size(), public[0]), (EC_PUBLIC_LEN, 4), "uncompressed point");
        let mut p = [Param::value_input(alg, 0), Param::memref_input(b"message"), Param::memref_output(&mut sig)];
        s.invoke(CMD_SIGN, &mut p).unwrap();
        assert_eq!(p[2].size(), 64);
        s.invoke(
            CMD_VERIFY,
            &mut [Param::value_input(alg, 0), Param::memref_input(b"message"), Param::memref_input(&sig)],
        )
        .unwrap();
        let err = s
            .invoke(
                CMD_VERIFY,
                &mut [Param::value_input(alg, 0), Param::memref_input(b"messagE"), Param::memref_input(&sig)],
            )
            .unwrap_err();
        assert_eq!(err.code, TeeResult::ERROR_SIGNATURE_INVALID);
    }
}
