//! Asynchronous notifications through the stock Linux driver (test build):
//! the driver enabled them at probe, the async-notification test PTA
//! (`oxtee_abi::async_notif_pta`) raises real secure interrupts whose top
//! halves ring the `optee_notification` interrupt, and the bottom halves
//! Linux runs for them (DO_BOTTOM_HALF) sleep and make an RPC. Run alone
//! as `oxtee-xtest async-notif`.

use crate::{check, eq};
use oxtee_abi::async_notif_pta as an;
use oxtee_abi::tee::TeeResult;
use oxtee_teec::{Context, Dir, Operation, ParamValue, Session};
use std::time::{Duration, Instant};

/// How long a bottom half may take to be run after its event.
const BOTTOM_HALF_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Status {
    events: u32,
    top: u32,
    bottom: u32,
    rpcs: u32,
    sleeps: u32,
    lock_sleeps: u32,
    time: u32,
}

fn status(s: &mut Session) -> Option<Status> {
    let v = || ParamValue::new(0, 0, Dir::Out);
    let mut o = Operation::new(0, v(), v(), v(), v());
    s.invoke_command(an::CMD_STATUS, &mut o).ok()?;
    let p = |i: usize| o.params[i].value().unwrap_or_default();
    Some(Status {
        events: p(0).0,
        top: p(0).1,
        bottom: p(1).0,
        rpcs: p(1).1,
        sleeps: p(2).0,
        lock_sleeps: p(2).1,
        time: p(3).0,
    })
}

/// Polls the status until `done` holds (bounded).
fn wait_for(s: &mut Session, done: impl Fn(&Status) -> bool) -> Option<Status> {
    let t0 = Instant::now();
    loop {
        let st = status(s)?;
        if done(&st) || t0.elapsed() > BOTTOM_HALF_WAIT {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Linux reaches OP-TEE over FF-A (a kernel with the FF-A transport,
/// `cargo xtask run --kernel FILE --ffa`): OP-TEE is a device on the FF-A
/// bus instead of the `linaro,optee-tz` platform device.
fn over_ffa() -> bool {
    std::fs::read_dir("/sys/bus/arm_ffa/devices").is_ok_and(|mut d| d.next().is_some())
}

/// The interrupt a top half rings: the OP-TEE node's `optee_notification`
/// in the SMC transport; over FF-A the schedule receiver interrupt
/// (`ARM-FFA-SRI`), after which the FF-A driver fetches the pending
/// notifications and calls the OP-TEE driver's callback.
fn notif_irq_name(ffa: bool) -> &'static str {
    if ffa { "ARM-FFA-SRI" } else { "optee_notification" }
}

/// The notification interrupt's line of /proc/interrupts: its count over
/// all CPUs.
fn notif_interrupts(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/interrupts").ok()?;
    let line = text.lines().find(|l| l.contains(name))?;
    let mut words = line.split_whitespace();
    words.next()?; // "NN:"
    Some(words.map_while(|w| w.parse::<u64>().ok()).sum())
}

fn invoke(s: &mut Session, cmd: u32, a: u32) -> (Result<(), u32>, u32) {
    let mut o = crate::op(ParamValue::new(a, 0, Dir::In), ParamValue::new(0, 0, Dir::Out));
    let r = s.invoke_command(cmd, &mut o).map_err(|e| e.code);
    (r, o.params[1].value().unwrap_or_default().0)
}

pub fn run(ctx: &mut Context) {
    let dmesg = std::process::Command::new("dmesg").output().map(|o| o.stdout).unwrap_or_default();
    let dmesg = String::from_utf8_lossy(&dmesg);
    let ffa = over_ffa();
    let irq = notif_irq_name(ffa);
    if ffa {
        // The FF-A transport says nothing when it succeeds, only when
        // binding the notification or ENABLE_ASYNC_NOTIF failed.
        check(
            !dmesg.contains("Failed to initialize async notifications"),
            "async-notif: driver enabled them at probe (FF-A)",
            format_args!("dmesg: \"Failed to initialize async notifications\""),
        );
    } else {
        check(
            dmesg.contains("Asynchronous notifications enabled"),
            "async-notif: driver enabled them at probe",
            format_args!("no \"Asynchronous notifications enabled\" in dmesg"),
        );
    }
    let irq0 = notif_interrupts(irq);
    check(irq0.is_some(), &format!("async-notif: {irq} in /proc/interrupts"), format_args!("absent"));
    let mut s = match ctx.open_session(an::UUID) {
        Ok(s) => s,
        Err(e) => {
            check(false, "async-notif: open the PTA", format_args!("{e:?}"));
            return;
        }
    };
    let bad = TeeResult::ERROR_BAD_PARAMETERS.0;
    eq("async-notif: raise 0 events", invoke(&mut s, an::CMD_RAISE, 0).0, Err(bad));
    eq("async-notif: raise too many", invoke(&mut s, an::CMD_RAISE, an::MAX_RAISE + 1).0, Err(bad));
    let Some(s0) = status(&mut s) else {
        check(false, "async-notif: status", format_args!("failed"));
        return;
    };

    // Events: each top half asks for a bottom half (requests may coalesce
    // while one is pending); every bottom half sleeps and makes an RPC.
    const N: u32 = 5;
    eq("async-notif: raise", invoke(&mut s, an::CMD_RAISE, N), (Ok(()), N));
    let st = wait_for(&mut s, |st| {
        let b = st.bottom - s0.bottom;
        b >= 1 && st.rpcs - s0.rpcs == b && st.sleeps - s0.sleeps == b
    })
    .unwrap_or_default();
    let b = st.bottom.wrapping_sub(s0.bottom);
    eq("async-notif: events raised", st.events.wrapping_sub(s0.events), N);
    eq("async-notif: top halves", st.top.wrapping_sub(s0.top), N);
    check((1..=N).contains(&b), "async-notif: bottom halves run", format_args!("{b} for {N} events"));
    eq("async-notif: bottom-half RPCs (GET_TIME)", st.rpcs.wrapping_sub(s0.rpcs), b);
    eq("async-notif: bottom-half timed sleeps", st.sleeps.wrapping_sub(s0.sleeps), b);
    check(st.time > 0, "async-notif: bottom half saw the normal world's time", format_args!("{}", st.time));

    // The bottom half must sleep for a lock the caller holds meanwhile.
    let s1 = st;
    eq("async-notif: raise with the lock held", invoke(&mut s, an::CMD_RAISE_LOCKED, 300), (Ok(()), 1));
    let st = wait_for(&mut s, |st| st.bottom > s1.bottom && st.rpcs == st.bottom).unwrap_or_default();
    eq("async-notif: locked: bottom halves", st.bottom.wrapping_sub(s1.bottom), 1);
    check(
        st.lock_sleeps > s1.lock_sleeps,
        "async-notif: bottom half slept for the lock",
        format_args!("{} sleeps", st.lock_sleeps.wrapping_sub(s1.lock_sleeps)),
    );
    eq("async-notif: locked: RPCs", st.rpcs.wrapping_sub(s1.rpcs), 1);

    let irq1 = notif_interrupts(irq);
    let taken = irq1.unwrap_or(0).saturating_sub(irq0.unwrap_or(0));
    check(taken >= 2, &format!("async-notif: {irq} interrupts counted"), format_args!("{irq0:?} -> {irq1:?}"));
    println!(
        "async-notif: {} events, {} top halves, {} bottom halves ({} RPCs, {} sleeps, {} lock sleeps), {} interrupts",
        st.events.wrapping_sub(s0.events),
        st.top.wrapping_sub(s0.top),
        st.bottom.wrapping_sub(s0.bottom),
        st.rpcs.wrapping_sub(s0.rpcs),
        st.sleeps.wrapping_sub(s0.sleeps),
        st.lock_sleeps.wrapping_sub(s0.lock_sleeps),
        taken
    );
}
