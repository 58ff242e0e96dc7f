# netns-lock.sh - sourced by the tests that create network namespaces: hold /tmp/fm-netns.lock
# for the rest of the script, unless a process this one runs under already holds it (e.g.
# `flock /tmp/fm-netns.lock make check`), where taking it again would wait forever.
fm_lock_held_above() {
    p=$PPID
    while [ -n "$p" ] && [ "$p" -gt 1 ] 2>/dev/null; do
        if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'flock.*fm-netns\.lock'; then
            return 0
        fi
        p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
    done
    return 1
}
if command -v flock >/dev/null 2>&1 && ! fm_lock_held_above; then
    exec 9>>/tmp/fm-netns.lock
    if ! flock -w 300 9; then
        echo "SKIP: /tmp/fm-netns.lock stayed busy for 5 minutes"
        exit 77
    fi
fi
