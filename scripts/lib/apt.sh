# Sourced by scripts/provision (expects its `say`).
# Runs an apt-get command, waiting (up to DIFY_SSO_APT_LOCK_WAIT seconds, default 600) while
# another apt or dpkg holds its lock, as unattended upgrades do on a freshly booted VM: dpkg's
# lock through apt's own DPkg::Lock::Timeout, the package-list lock of `update` by retrying.
apt_lock_wait=${DIFY_SSO_APT_LOCK_WAIT:-600}
apt_lock_poll=${DIFY_SSO_APT_LOCK_POLL:-10}
apt_locked() {
  local - waited=0 rc errf
  set -o pipefail +e # (options local to this function: a failed try is looked at, not fatal)
  errf=$(mktemp)
  while :; do
    # apt's own "Waiting for cache lock … held by process N (unattended-upgr)" goes to the terminal too.
    { "$@" -o "DPkg::Lock::Timeout=$apt_lock_wait" 2>&1 1>&3 | tee "$errf" >&2; } 3>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then rm -f "$errf"; return 0; fi
    if ! grep -q 'Could not get lock' "$errf" || [ "$waited" -ge "$apt_lock_wait" ]; then rm -f "$errf"; return "$rc"; fi
    say "another apt/dpkg holds the lock (unattended upgrades?); waiting (${waited} s of ${apt_lock_wait} s)"
    sleep "$apt_lock_poll"
    waited=$((waited + apt_lock_poll))
  done
}

