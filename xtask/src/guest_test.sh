# Run by the guest's /init in test mode (see linux.rs).
echo "oxtee-test: driver messages:"
dmesg | grep -i optee | sed 's/^/  dmesg: /'
if dmesg | grep -i optee | grep -q -i -E "error|fail|unable|invalid"; then
    echo "oxtee-test: FAIL optee errors in dmesg"
fi
[ -e /dev/tee0 ] && [ -e /dev/teepriv0 ] || echo "oxtee-test: FAIL /dev/tee0 or /dev/teepriv0 missing"

echo "oxtee-test: run A: Debian tee-supplicant"
tee-supplicant -d
oxtee-xtest 2>&1 | sed 's/^xtest:/run-A xtest:/'
killall tee-supplicant 2>/dev/null
echo "oxtee-test: done"
