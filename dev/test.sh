#!/usr/bin/env bash
# The README's test command. Finds or sets up what the tests use, then runs
# `cargo test --workspace --locked` (extra arguments are passed on to it).
#
# - Debian packages (dig, swaks with Net::SSLeay, Chromium and chromedriver,
#   a font, python3-venv): installed when running as root, otherwise named in
#   one `apt-get install` line, and nothing runs.
# - PostgreSQL: used at ABSENDER_TEST_POSTGRES_URL (default
#   postgres://postgres@127.0.0.1:5432/postgres); started (and installed) as
#   root when it is not running.
# - Python with dkimpy, dnspython, the aws CLI, boto3 and standardwebhooks: a
#   venv under target/test-venv.
#
# ABSENDER_TEST_INSTALL=no never installs or starts anything, even as root.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'dev/test.sh: %s\n' "$*" >&2; }

may_install=no
if [[ $(id -u) == 0 && ${ABSENDER_TEST_INSTALL:-yes} != no ]]; then
  may_install=yes
fi

# Each missing command's Debian package.
missing_packages() {
  local need=()
  command -v dig >/dev/null 2>&1 || need+=(dnsutils)
  command -v swaks >/dev/null 2>&1 || need+=(swaks)
  perl -MNet::SSLeay -e1 2>/dev/null || need+=(libnet-ssleay-perl)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
  command -v "${ABSENDER_TEST_CHROMIUM:-chromium}" >/dev/null 2>&1 || need+=(chromium)
  command -v "${ABSENDER_TEST_CHROMEDRIVER:-chromedriver}" >/dev/null 2>&1 || need+=(chromium-driver)
  fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
  echo "${need[@]}"
}

postgres_url=${ABSENDER_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
postgres_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -d "$postgres_url" -q 2>/dev/null
  else
    # No client tools: is anything listening on the URL's host and port?
    local rest=${postgres_url#*://}
    rest=${rest#*@}
    rest=${rest%%/*}
    local host=${rest%%:*} port=5432
    [[ $rest == *:* ]] && port=${rest##*:}
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
  fi
}

read -r -a need <<<"$(missing_packages)"
postgres_missing=no
postgres_up || postgres_missing=yes

if [[ $may_install == yes ]]; then
  if ((${#need[@]})) || { [[ $postgres_missing == yes ]] && ! command -v pg_ctlcluster >/dev/null 2>&1; }; then
    [[ $postgres_missing == yes ]] && ! command -v pg_ctlcluster >/dev/null 2>&1 && need+=(postgresql)
    say "installing ${need[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
  fi
  if [[ $postgres_missing == yes ]]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    say "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do postgres_up && break; sleep 1; done
  fi
  read -r -a need <<<"$(missing_packages)"
  postgres_missing=no
  postgres_up || postgres_missing=yes
fi

if ((${#need[@]})) || [[ $postgres_missing == yes ]]; then
  say "the tests need what this machine lacks; as root this script installs it, or run:"
  ((${#need[@]})) && say "  sudo apt-get install -y --no-install-recommends ${need[*]}"
  if [[ $postgres_missing == yes ]]; then
    say "  and a PostgreSQL server at $postgres_url (sudo apt-get install -y postgresql;"
    say "  sudo pg_ctlcluster <version> main start), or set ABSENDER_TEST_POSTGRES_URL"
  fi
  exit 1
fi
export ABSENDER_TEST_POSTGRES_URL=$postgres_url

# dkimpy with pynacl and dnspython (the independent DKIM verifier, Ed25519
# included), standardwebhooks (the webhook receiver's verifier), the aws CLI
# and boto3
# (real SES clients; boto3 pinned to the botocore whose model sends
# ListEmailIdentities as POST), in a venv of our own.
venv=${ABSENDER_TEST_PYTHON_VENV:-$PWD/target/test-venv}
boto3_pin="boto3==1.44.8 botocore==1.44.8"
if ! "$venv/bin/python" -c 'import dkim, dns, nacl, boto3, standardwebhooks, cryptography' 2>/dev/null || ! [[ -x $venv/bin/aws ]]; then
  say "creating $venv with dkimpy (and pynacl for Ed25519), dnspython, standardwebhooks, awscli and $boto3_pin"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086 # the pin is two words
  "$venv/bin/pip" install -q --disable-pip-version-check dkimpy pynacl dnspython standardwebhooks cryptography awscli $boto3_pin
fi
export ABSENDER_TEST_PYTHON=$venv/bin/python
export ABSENDER_TEST_AWS=$venv/bin/aws

exec cargo test --workspace --locked "$@"
