//! The crash test: a scripted workload over three TAs' stores is run once
//! to count its durable backend operations, then once for every one of
//! them with the power cut there (that operation torn, nothing after it
//! happening). After a reboot and `recover`, the whole storage must be
//! exactly the state before or after the interrupted engine operation,
//! `list` must agree with `open`, nothing may be corrupt, and the stores
//! must keep working.

use super::*;
use alloc::collections::BTreeMap;
use alloc::vec;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Obj {
    meta: ObjMeta,
    attrs: Vec<u8>,
    data: Vec<u8>,
}

type Key = (usize, Vec<u8>);
type State = BTreeMap<Key, Obj>;

#[derive(Clone, Debug)]
enum Op {
    Create { ta: usize, id: &'static [u8], data: Vec<u8>, overwrite: bool },
    Write { ta: usize, id: &'static [u8], pos: usize, data: Vec<u8> },
    Trunc { ta: usize, id: &'static [u8], len: usize },
    Rename { ta: usize, id: &'static [u8], to: &'static [u8] },
    Delete { ta: usize, id: &'static [u8] },
    Usage { ta: usize, id: &'static [u8], usage: u32 },
    List { ta: usize },
}

fn workload() -> Vec<Op> {
    use Op::*;
    let mut w = vec![
        Create { ta: 0, id: b"a", data: pattern(1, 100), overwrite: false },
        Create { ta: 1, id: b"a", data: pattern(2, 5000), overwrite: false },
        Create { ta: 0, id: b"b", data: pattern(3, 9000), overwrite: true },
        Create { ta: 0, id: b"a", data: pattern(4, 10), overwrite: false }, // conflict
        Write { ta: 0, id: b"a", pos: 50, data: pattern(5, 200) },
        Write { ta: 0, id: b"b", pos: 4000, data: pattern(6, 300) }, // spans blocks
        Write { ta: 1, id: b"a", pos: 9000, data: pattern(7, 10) },  // gap
        Create { ta: 2, id: b"c", data: vec![], overwrite: false },
    ];
    for i in 0..6 {
        w.push(Write { ta: 2, id: b"c", pos: i * 1024, data: pattern(10 + i as u8, 1024) });
    }
    w.extend([
        Write { ta: 1, id: b"a", pos: 0, data: pattern(20, 20_000) }, // large
        Trunc { ta: 0, id: b"b", len: 4500 },
        Trunc { ta: 0, id: b"b", len: 12_000 },
        List { ta: 0 },
        Rename { ta: 0, id: b"a", to: b"a2" },
        Rename { ta: 0, id: b"b", to: b"a2" }, // conflict
        Create { ta: 0, id: b"b", data: pattern(21, 3000), overwrite: true }, // replace
        Usage { ta: 0, id: b"a2", usage: 3 },
        Delete { ta: 2, id: b"c" },
        Create { ta: 2, id: b"g", data: pattern(22, 10), overwrite: false },
        Write { ta: 2, id: b"g", pos: 200_000, data: pattern(23, 10) },
        Write { ta: 2, id: b"g", pos: 600_000, data: pattern(24, 10) }, // header rebuild
        Write { ta: 2, id: b"g", pos: 3, data: pattern(25, 5000) },
        List { ta: 2 },
        Create { ta: 1, id: b"x", data: pattern(26, 4096), overwrite: true },
        Rename { ta: 1, id: b"x", to: b"y" },
        Trunc { ta: 1, id: b"a", len: 0 },
        Delete { ta: 1, id: b"y" },
        Rename { ta: 0, id: b"a2", to: b"a" },
        Create { ta: 1, id: b"", data: pattern(27, 50), overwrite: false }, // an empty id is valid
        Rename { ta: 1, id: b"", to: b"e" },
        Rename { ta: 1, id: b"e", to: b"" },
        List { ta: 1 },
    ]);
    w
}

/// The model's answer to `op` from state `s`: the new state.
fn apply(s: &State, op: &Op) -> State {
    let mut s = s.clone();
    match op {
        Op::Create { ta, id, data, overwrite } => {
            let k = (*ta, id.to_vec());
            if *overwrite || !s.contains_key(&k) {
                s.insert(k, Obj { meta: meta(*ta as u32), attrs: pattern(*ta as u8, 40), data: data.clone() });
            }
        }
        Op::Write { ta, id, pos, data } => {
            let o = s.get_mut(&(*ta, id.to_vec())).expect("model: write to a missing object");
            if o.data.len() < pos + data.len() {
                o.data.resize(pos + data.len(), 0);
            }
            o.data[*pos..pos + data.len()].copy_from_slice(data);
        }
        Op::Trunc { ta, id, len } => s.get_mut(&(*ta, id.to_vec())).expect("model").data.resize(*len, 0),
        Op::Rename { ta, id, to } => {
            if !s.contains_key(&(*ta, to.to_vec())) {
                let o = s.remove(&(*ta, id.to_vec())).expect("model");
                s.insert((*ta, to.to_vec()), o);
            }
        }
        Op::Delete { ta, id } => {
            s.remove(&(*ta, id.to_vec()));
        }
        Op::Usage { ta, id, usage } => s.get_mut(&(*ta, id.to_vec())).expect("model").meta.usage = *usage,
        Op::List { .. } => {}
    }
    s
}

struct Run {
    stores: Vec<Store>,
    handles: BTreeMap<Key, Object>,
    rng: Rng,
}

impl Run {
    fn new(seed: u64) -> Run {
        Run { stores: (0..3).map(|t| store(10 + t as u8)).collect(), handles: BTreeMap::new(), rng: Rng(seed | 1) }
    }

    fn handle(&mut self, b: &mut MemBackend, k: &Key) -> Result<&mut Object, TeeResult> {
        if !self.handles.contains_key(k) {
            let o = self.stores[k.0].open(b, &k.1)?;
            self.handles.insert(k.clone(), o);
        }
        Ok(self.handles.get_mut(k).expect("just put"))
    }

    /// Runs `op` against the engine; Err when the result is not the one
    /// the model expects (the power cut, or a bug when there is none).
    fn step(&mut self, b: &mut MemBackend, op: &Op, before: &State) -> Result<(), TeeResult> {
        let rng = &mut self.rng;
        match op {
            Op::Create { ta, id, data, overwrite } => {
                let k = (*ta, id.to_vec());
                if let Some(o) = self.handles.remove(&k) {
                    o.close(b)?;
                }
                let res = self.stores[*ta].create(
                    b,
                    id,
                    &meta(*ta as u32),
                    &pattern(*ta as u8, 40),
                    data,
                    *overwrite,
                    &mut |x| rng.fill(x),
                );
                match res {
                    Ok(o) => {
                        self.handles.insert(k, o);
                    }
                    Err(TeeResult::ERROR_ACCESS_CONFLICT) if !overwrite && before.contains_key(&k) => {}
                    Err(e) => return Err(e),
                }
            }
            Op::Write { ta, id, pos, data } => {
                let mut r = Rng(self.rng.0);
                let res = self.handle(b, &(*ta, id.to_vec()))?.write(b, *pos as u64, data, &mut |x| r.fill(x));
                self.rng = r;
                res?;
            }
            Op::Trunc { ta, id, len } => {
                let mut r = Rng(self.rng.0);
                let res = self.handle(b, &(*ta, id.to_vec()))?.truncate(b, *len as u64, &mut |x| r.fill(x));
                self.rng = r;
                res?;
            }
            Op::Usage { ta, id, usage } => {
                let mut r = Rng(self.rng.0);
                let res = self.handle(b, &(*ta, id.to_vec()))?.set_usage(b, *usage, &mut |x| r.fill(x));
                self.rng = r;
                res?;
            }
            Op::Rename { ta, id, to } => {
                let k = (*ta, id.to_vec());
                self.handle(b, &k)?;
                let mut o = self.handles.remove(&k).expect("opened");
                let mut r = Rng(self.rng.0);
                let res = o.rename(&self.stores[*ta], b, to, &mut |x| r.fill(x));
                self.rng = r;
                match res {
                    Ok(()) => {
                        self.handles.insert((*ta, to.to_vec()), o);
                    }
                    Err(TeeResult::ERROR_ACCESS_CONFLICT) if before.contains_key(&(*ta, to.to_vec())) => {
                        self.handles.insert(k, o);
                    }
                    Err(e) => {
                        self.handles.insert(k, o);
                        return Err(e);
                    }
                }
            }
            Op::Delete { ta, id } => {
                let k = (*ta, id.to_vec());
                self.handle(b, &k)?;
                self.handles.remove(&k).expect("opened").remove(b)?;
            }
            Op::List { ta } => {
                let l = self.stores[*ta].list(b)?;
                assert_eq!(l.len(), before.keys().filter(|k| k.0 == *ta).count(), "list while running");
                for e in l {
                    let o = &before[&(*ta, e.id.clone())];
                    assert_eq!((e.data_len, e.meta), (o.data.len() as u64, o.meta));
                }
            }
        }
        Ok(())
    }
}

/// The storage as the engine sees it after a reboot: what list shows,
/// checked against open for every id the model ever had.
fn observe(b: &mut MemBackend, stores: &[Store], ids: &[Key]) -> State {
    let mut s = State::new();
    for (ta, st) in stores.iter().enumerate() {
        st.recover(b).expect("recover");
        for e in st.list(b).expect("list") {
            let mut o = st.open(b, &e.id).expect("a listed object opens");
            let data = read_all(&mut o, b).expect("a listed object reads");
            assert_eq!((e.data_len, e.meta), (data.len() as u64, *o.meta()));
            s.insert((ta, e.id.clone()), Obj { meta: *o.meta(), attrs: o.attrs().to_vec(), data });
            o.close(b).unwrap();
        }
    }
    for k in ids {
        if !s.contains_key(k) {
            assert_eq!(stores[k.0].open(b, &k.1).err(), Some(TeeResult::ERROR_ITEM_NOT_FOUND), "{k:?} not listed");
        }
    }
    // No temporary files survive recover.
    assert!(b.names().iter().all(|n| n.len() == 32 + 1 + 64), "{:?}", b.names());
    s
}

/// Runs the workload; returns the index of the operation the cut
/// interrupted (None if it finished).
fn run(b: &mut MemBackend, ops: &[Op], states: &[State], seed: u64) -> Option<usize> {
    let mut run = Run::new(seed);
    for (i, op) in ops.iter().enumerate() {
        if let Err(e) = run.step(b, op, &states[i]) {
            assert!(b.is_dead(), "op {i} {op:?} failed with {e:?} without a power cut");
            return Some(i);
        }
    }
    // Handles are dropped (the machine is off or the run is over).
    None
}

/// Runs the sweep: every durable operation of `ops`, each torn in
/// `seeds` ways. Returns (durable operations, cut points tested, how many
/// found the state before / after the interrupted operation).
fn sweep(ops: &[Op], seeds: u64, check_clean: &dyn Fn(&MemBackend, &[Store])) -> (u64, u64, [u64; 2]) {
    let mut states = vec![State::new()];
    for op in ops {
        let next = apply(states.last().unwrap(), op);
        states.push(next);
    }
    let ids: Vec<Key> = {
        let mut v: Vec<Key> = states.iter().flat_map(|s| s.keys().cloned()).collect();
        v.sort();
        v.dedup();
        v
    };
    let stores: Vec<Store> = (0..3).map(|t| store(10 + t as u8)).collect();
    // Without a cut: the final state, and the number of durable operations.
    let mut b = MemBackend::new();
    assert_eq!(run(&mut b, ops, &states, 1), None);
    let total = b.ops;
    check_clean(&b, &stores);
    b.reboot();
    assert_eq!(observe(&mut b, &stores, &ids), *states.last().unwrap());
    let mut tested = 0u64;
    let mut kinds = [0u64; 2];
    for seed in 0..seeds {
        for n in 0..total {
            let mut b = MemBackend::new();
            b.cut_with(n, seed);
            let at = run(&mut b, ops, &states, 1);
            assert!(b.is_dead(), "cut {n} never reached");
            b.reboot();
            let got = observe(&mut b, &stores, &ids);
            let (before, after) = match at {
                Some(i) => (&states[i], &states[i + 1]),
                None => (states.last().unwrap(), states.last().unwrap()),
            };
            if got == *before {
                kinds[0] += 1;
            } else if got == *after {
                kinds[1] += 1;
            } else {
                panic!(
                    "cut at durable op {n} (seed {seed}) during {:?}: state is neither before nor after",
                    at.map(|i| &ops[i])
                );
            }
            // The stores keep working.
            for (ta, st) in stores.iter().enumerate() {
                let mut r = Rng(n + 99);
                let mut o =
                    st.create(&mut b, b"after-cut", &meta(0), b"", b"fresh", true, &mut |x| r.fill(x)).expect("create");
                o.write(&mut b, 5, b"!", &mut |x| r.fill(x)).expect("write");
                assert_eq!(read_all(&mut o, &mut b).unwrap(), b"fresh!", "ta {ta}");
                o.close(&mut b).unwrap();
            }
            tested += 1;
        }
    }
    (total, tested, kinds)
}

#[test]
fn power_cut_at_every_durable_operation() {
    let ops = workload();
    let (total, tested, kinds) = sweep(&ops, 4, &|b, stores| {
        // The workload rebuilt g's file with larger header slots (data
        // past 2 x 16 KiB).
        let g = b.get(&stores[2].keys.object_path(b"g")).expect("g").len();
        assert!(g > 2 * 16384 + 2 * 4096, "{g}");
    });
    std::println!(
        "crash test: {} engine operations, {total} durable backend operations, {tested} cut points tested \
         ({} found the state before the interrupted operation, {} after)",
        ops.len(),
        kinds[0],
        kinds[1]
    );
    assert!(total > 60, "{total}");
    assert!(kinds[0] > 0 && kinds[1] > 0);
}

/// Objects larger than one backend write (runs of 64 blocks): creation in
/// several writes, a large overwrite, a shrink.
#[test]
fn power_cut_in_large_objects() {
    use Op::*;
    let ops = [
        Create { ta: 0, id: b"L", data: pattern(40, 300_000), overwrite: false },
        Write { ta: 0, id: b"L", pos: 1000, data: pattern(41, 280_000) },
        Create { ta: 0, id: b"L", data: pattern(42, 270_000), overwrite: true },
        Trunc { ta: 0, id: b"L", len: 5000 },
    ];
    let (total, tested, kinds) = sweep(&ops, 2, &|_, _| {});
    std::println!(
        "crash test (large objects): {total} durable backend operations, {tested} cut points tested ({kinds:?})"
    );
    assert!(total >= 15, "{total}");
}
