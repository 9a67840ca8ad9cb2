# Run by the guest's /init in test mode (see linux.rs).
echo "oxtee-test: dmesg (optee):"
dmesg | grep -i -E "optee|tee:" | sed 's/^/  /'
if dmesg | grep -i optee | grep -q -i -E "error|fail|unable"; then
    echo "oxtee-test: optee errors in dmesg"
fi
fails=0
ls /dev/tee0 /dev/teepriv0 >/dev/null 2>&1 || { echo "oxtee-test: FAIL /dev/tee0 missing"; fails=$((fails+1)); }
echo "oxtee-test: probe failures: $fails"
