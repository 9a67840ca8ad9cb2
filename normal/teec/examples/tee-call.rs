//! `tee-call`: open a session with any TA and invoke one command from the
//! command line, printing what comes back and, on failure, the error as
//! oxtee-teec names it. A small client to try a TA with before writing
//! its own (and what docs/troubleshooting.md's examples were run with).
//!
//!     tee-call UUID                 open a session and close it
//!     tee-call UUID CMD [PARAM...]  open, invoke CMD with up to 4 parameters
//!
//! PARAM: `none`, `vin:A,B`, `vout`, `vinout:A,B` (values), `min:TEXT`,
//! `mout:N` (N-byte output buffer), `minout:TEXT` (temporary memrefs).
//! Exit status 0 on success, 1 if the TEE answered an error, 2 for a usage
//! error.

use oxtee_teec::{Context, Dir, Error, ErrorKind, Operation, Param, Uuid};
use std::process::ExitCode;

const USAGE: &str = "usage: tee-call UUID [CMD [PARAM...]]
  PARAM: none | vin:A,B | vout | vinout:A,B | min:TEXT | mout:N | minout:TEXT";

/// One parameter as written on the command line, before its buffer exists.
enum Spec {
    None,
    Value(Dir, u32, u32),
    Mem(Dir, Vec<u8>),
}

fn number(s: &str) -> Result<u32, String> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("not a number: {s:?}"))
}

fn pair(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s.split_once(',').unwrap_or((s, "0"));
    Ok((number(a)?, number(b)?))
}

fn spec(arg: &str) -> Result<Spec, String> {
    let (kind, rest) = arg.split_once(':').unwrap_or((arg, ""));
    Ok(match kind {
        "none" => Spec::None,
        "vin" | "vinout" => {
            let (a, b) = pair(rest)?;
            Spec::Value(if kind == "vin" { Dir::In } else { Dir::InOut }, a, b)
        }
        "vout" => Spec::Value(Dir::Out, 0, 0),
        "min" => Spec::Mem(Dir::In, rest.as_bytes().to_vec()),
        "minout" => Spec::Mem(Dir::InOut, rest.as_bytes().to_vec()),
        "mout" => Spec::Mem(Dir::Out, vec![0; number(rest)? as usize]),
        _ => return Err(format!("unknown parameter {arg:?}")),
    })
}

/// Prints a failure the way this crate describes it.
fn report(what: &str, e: &Error) {
    eprintln!("tee-call: {what} failed: {e}");
    eprintln!("tee-call:   kind {:?} ({}), origin {:?}", e.kind(), e.message(), e.origin());
}

fn run(args: &[String]) -> Result<u8, String> {
    let uuid = args.first().ok_or("no UUID")?;
    let uuid = Uuid::parse(uuid).ok_or_else(|| format!("not a UUID: {uuid:?}"))?;
    let cmd = args.get(1).map(|c| number(c)).transpose()?;
    if args.len() > 6 {
        return Err("at most 4 parameters".into());
    }
    let mut specs: Vec<Spec> = args.iter().skip(2).map(|a| spec(a)).collect::<Result<_, _>>()?;
    let ctx = match Context::new() {
        Ok(c) => c,
        Err(e) => {
            report("opening /dev/tee0", &e);
            return Ok(1);
        }
    };
    let mut session = match ctx.open_session(uuid) {
        Ok(s) => s,
        Err(e) => {
            report(&format!("opening a session with {uuid}"), &e);
            return Ok(1);
        }
    };
    println!("tee-call: session {} open with {uuid}", session.id());
    let Some(cmd) = cmd else { return Ok(0) };
    let mut params: Vec<Param> = specs
        .iter_mut()
        .map(|s| match s {
            Spec::None => Param::None,
            Spec::Value(dir, a, b) => Param::Value { dir: *dir, a: *a, b: *b },
            Spec::Mem(dir, buf) => {
                let size = buf.len();
                Param::TmpRef { dir: *dir, buf: buf.as_mut_slice(), size }
            }
        })
        .collect();
    params.resize_with(4, || Param::None);
    let [p0, p1, p2, p3]: [Param; 4] = params.try_into().map_err(|_| "parameters")?;
    let mut op = Operation::new(0, p0, p1, p2, p3);
    let result = session.invoke_command(cmd, &mut op);
    for (i, p) in op.params.iter().enumerate() {
        match p {
            Param::Value { dir: Dir::Out | Dir::InOut, a, b } => println!("tee-call: p{i} value a={a} b={b}"),
            Param::TmpRef { dir: Dir::Out | Dir::InOut, buf, size } if *size <= buf.len() => {
                println!("tee-call: p{i} memref size {size}: {:?}", String::from_utf8_lossy(&buf[..*size]));
            }
            _ => {}
        }
    }
    match result {
        Ok(()) => {
            println!("tee-call: command {cmd}: success");
            Ok(0)
        }
        Err(e) => {
            report(&format!("command {cmd}"), &e);
            if e.kind() == ErrorKind::ShortBuffer {
                for (i, p) in op.params.iter().enumerate() {
                    if let Param::TmpRef { dir: Dir::Out | Dir::InOut, buf, size } = p
                        && *size > buf.len()
                    {
                        eprintln!("tee-call:   p{i}: the TA needs {size} bytes, the buffer has {}", buf.len());
                    }
                }
            }
            Ok(1)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(status) => ExitCode::from(status),
        Err(e) => {
            eprintln!("tee-call: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
