#!/usr/bin/env bash
# Debian's packages for a real single-node SLURM cluster (the cluster test, tests/slurm_cluster.py):
# munge, MariaDB, slurmdbd, slurmctld, slurmd and the client commands. Idempotent: nothing to do when they
# are installed. Needs root and apt-get; exits non-zero otherwise (the test is then skipped, with why).
set -euo pipefail
need=(munged mariadbd slurmdbd slurmctld slurmd sbatch sacct sacctmgr)
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
missing=0
for b in "${need[@]}"; do have "$b" || missing=1; done
[ "$missing" = 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install_slurm.sh: needs root and apt-get to install SLURM's Debian packages" >&2
  exit 1
fi
packages=(slurm-wlm slurm-client slurmdbd munge mariadb-server)
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1 \
  || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; }
