# Run by the guest's /init in test mode (see linux.rs): the suite with both
# client stacks, then a supplicant restart under load.
echo "oxtee-test: driver messages:"
dmesg | grep -i optee | sed 's/^/  dmesg: /'
if dmesg | grep -i optee | grep -q -i -E "error|fail|unable|invalid|timeout"; then
    echo "oxtee-test: FAIL optee errors in dmesg"
fi
if dmesg | grep -q "optee: revision"; then echo "oxtee-test: driver revision line present"; else echo "oxtee-test: FAIL no revision line"; fi
[ -e /dev/tee0 ] && [ -e /dev/teepriv0 ] || echo "oxtee-test: FAIL /dev/tee0 or /dev/teepriv0 missing"
# Boot entropy: no secure-world node reaches Linux's tree, and the seeds
# there are QEMU's per-boot ones that the monitor filled in (a zero
# placeholder would leave KASLR off for lack of a seed).
[ -e /proc/device-tree/secure-chosen ] && echo "oxtee-test: FAIL /secure-chosen is in Linux's device tree"
if dmesg | grep -q "KASLR enabled"; then echo "oxtee-test: per-boot kaslr-seed used"; else echo "oxtee-test: FAIL KASLR off: no per-boot kaslr-seed"; fi

# Every example client (examples/*/host, host-c; `example-*`), each
# exiting 0 only if its checks passed: "<label> examples: N passed, M failed".
examples() {
    label=$1; shift
    p=0; f=0
    for e in /usr/bin/example-*; do
        [ -x "$e" ] || continue
        "$@" "$e" > /tmp/example.log 2>&1
        rc=$?
        sed 's/^/  /' /tmp/example.log
        if [ $rc = 0 ]; then p=$((p+1)); else f=$((f+1)); echo "  $label: $(basename "$e") FAILED (exit status $rc)"; fi
    done
    [ $((p+f)) = 0 ] && echo "oxtee-test: FAIL no example-* programs in /usr/bin"
    echo "$label examples: $p passed, $f failed"
}

cclient() {
    if [ -x /usr/bin/oxtee-cclient ]; then "$@" /usr/bin/oxtee-cclient; else echo "cclient: not built"; fi
}

echo "oxtee-test: run A: Debian tee-supplicant, Debian libteec.so.1"
tee-supplicant -d
sleep 0.2
oxtee-xtest 2>&1 | sed 's/^xtest:/run-A xtest:/'
cclient env 2>&1 | sed 's/^cclient:/run-A cclient:/'
examples run-A env
killall tee-supplicant 2>/dev/null
sleep 0.3

echo "oxtee-test: run B: oxtee-supplicant, oxtee libteec.so.1"
oxtee-supplicant -d -f /var/lib/tee
sleep 0.2
oxtee-xtest 2>&1 | sed 's/^xtest:/run-B xtest:/'
cclient env LD_LIBRARY_PATH=/usr/lib/oxtee 2>&1 | sed 's/^cclient:/run-B cclient:/'
examples run-B env LD_LIBRARY_PATH=/usr/lib/oxtee
# oxtee-supplicant created its storage root: private to its user.
m=$(stat -c %a /var/lib/tee 2>/dev/null)
if [ "$m" = 700 ]; then echo "oxtee-test: storage root private (700)"; else echo "oxtee-test: FAIL storage root /var/lib/tee mode '$m', want 700"; fi

echo "oxtee-test: supplicant killed and restarted under load"
oxtee-xtest supp-stress 6 > /tmp/stress.log 2>&1 &
sleep 1.5
# Stop it first so requests queue up in the kernel, then kill it: the
# pending calls must fail and the OS must keep serving.
killall -STOP oxtee-supplicant
sleep 0.5
killall -9 oxtee-supplicant
i=0; while pidof oxtee-supplicant >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
sleep 0.5
oxtee-supplicant -d -f /var/lib/tee
wait
sed 's/^/  /' /tmp/stress.log
if grep -q "serving afterwards: true" /tmp/stress.log && ! grep -q "no call saw" /tmp/stress.log; then
    oxtee-xtest 2>&1 | sed 's/^xtest:/restart xtest:/'
else
    echo "oxtee-test: FAIL supplicant restart: pending calls did not fail or the OS stopped serving"
fi
echo "oxtee-test: done"
