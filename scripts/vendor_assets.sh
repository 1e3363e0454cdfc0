#!/usr/bin/env bash
# Re-fetch the vendored map assets (Leaflet, plugins, jQuery, Bootstrap,
# Font Awesome) from the npm registry into dashboard/static/vendor/.
#
# For maintainers only: the files are committed, the dashboard never fetches
# anything at run time (closed police networks have no internet). Versions
# and npm integrity hashes are pinned below; the script refuses a tarball
# whose integrity differs. Run from anywhere:
#
#     scripts/vendor_assets.sh            # refresh dashboard/static/vendor/
#
# Needs npm, tar, python3. Files we wrote ourselves (vendor/harewatch/) are
# left alone.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$REPO/dashboard/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# name@version  npm integrity (sha512, from `npm pack --json`)
PACKAGES=(
  "leaflet@1.9.4 sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
  "jquery@3.7.1 sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg=="
  "bootstrap@5.2.2 sha512-dEtzMTV71n6Fhmbg4fYJzQsw1N29hJKO1js5ackCgIpDcGid2ETMGC6zwSYw09v05Y+oRdQ9loC54zB1La3hHQ=="
  "drmonty-leaflet-awesome-markers@2.0.2 sha512-g508pdnnHQr9l4kU6McvJzcSd0w1FvHFlZZCYc4oT+zjwYJi1qtj0fFBFEWMKoNfHK4UcBya1eccyjKfu4chjQ=="
  "@fortawesome/fontawesome-free@6.2.0 sha512-CNR7qRIfCwWHNN7FnKUniva94edPdyQzil/zCwk3v6k4R6rR2Fr8i4s3PM7n/lyfPA6Zfko9z5WDzFxG9SW1uQ=="
  "leaflet.markercluster@1.5.3 sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA=="
  "leaflet.heat@0.2.0 sha512-Cd5PbAA/rX3X3XKxfDoUGi9qp78FyhWYurFg3nsfhntcM/MCNK08pRkf4iEenO1KNqwVPKCmkyktjW3UD+h9bQ=="
  "leaflet-polylinedecorator@1.6.0 sha512-kn3krmZRetgvN0wjhgYL8kvyLS0tUogAl0vtHuXQnwlYNjbl7aLQpkoFUo8UB8gVZoB0dhI4Tb55VdTJAcYzzQ=="
)

fetch() {  # fetch SPEC INTEGRITY -> prints the unpacked package dir
  local spec="$1" want="$2" out="$WORK/$(echo "$1" | tr '/@' '__')"
  mkdir -p "$out"
  local json
  json="$(cd "$out" && npm pack --json --silent "$spec")"
  local got file
  got="$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["integrity"])' <<<"$json")"
  file="$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["filename"])' <<<"$json")"
  if [[ "$got" != "$want" ]]; then
    echo "integrity mismatch for $spec: got $got, pinned $want" >&2
    exit 1
  fi
  tar -xzf "$out/$file" -C "$out"
  echo "$out/package"
}

cp_to() {  # cp_to SRC DEST_REL_DIR FILE...
  local src="$1" dst="$DEST/$2"; shift 2
  mkdir -p "$dst"
  for f in "$@"; do cp "$src/$f" "$dst/"; done
}

declare -A DIR
for entry in "${PACKAGES[@]}"; do
  read -r spec integrity <<<"$entry"
  DIR["$spec"]="$(fetch "$spec" "$integrity")"
done

# Start from a clean tree but keep our own files.
find "$DEST" -mindepth 1 -maxdepth 1 ! -name harewatch ! -name manifest.json -exec rm -rf {} + 2>/dev/null || true
mkdir -p "$DEST"

p="${DIR[leaflet@1.9.4]}"
cp_to "$p" leaflet dist/leaflet.js dist/leaflet.css LICENSE
cp_to "$p" leaflet/images dist/images/layers.png dist/images/layers-2x.png \
  dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png

p="${DIR[jquery@3.7.1]}"
cp_to "$p" jquery dist/jquery.min.js LICENSE.txt

p="${DIR[bootstrap@5.2.2]}"
cp_to "$p" bootstrap LICENSE
cp_to "$p" bootstrap/js dist/js/bootstrap.bundle.min.js
cp_to "$p" bootstrap/css dist/css/bootstrap.min.css

p="${DIR[drmonty-leaflet-awesome-markers@2.0.2]}"
cp_to "$p" leaflet-awesome-markers js/leaflet.awesome-markers.min.js css/leaflet.awesome-markers.css
cp_to "$p" leaflet-awesome-markers/images css/images/markers-soft.png css/images/markers-soft@2x.png \
  css/images/markers-shadow.png css/images/markers-shadow@2x.png
# The npm package ships no licence file; package.json declares MIT
# (Lennard Voogdt). Record that declaration next to the files.
python3 - "$p/package.json" "$DEST/leaflet-awesome-markers/LICENSE.txt" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1]))
lic = meta["licenses"][0]
text = f"""Leaflet.awesome-markers {meta['version']} (npm: {meta['name']})
Copyright (c) 2012-2013 {meta['author']}
Licence: {lic['type']} (declared in the package's package.json; see {lic['url']})

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.
"""
open(sys.argv[2], "w").write(text)
PY

p="${DIR[@fortawesome/fontawesome-free@6.2.0]}"
cp_to "$p" fontawesome LICENSE.txt
cp_to "$p" fontawesome/css css/all.min.css
mkdir -p "$DEST/fontawesome/webfonts"
cp "$p"/webfonts/*.woff2 "$p"/webfonts/*.ttf "$DEST/fontawesome/webfonts/"

p="${DIR[leaflet.markercluster@1.5.3]}"
cp_to "$p" leaflet.markercluster dist/leaflet.markercluster.js dist/MarkerCluster.css \
  dist/MarkerCluster.Default.css MIT-LICENCE.txt

p="${DIR[leaflet.heat@0.2.0]}"
cp_to "$p" leaflet.heat dist/leaflet-heat.js LICENSE

p="${DIR[leaflet-polylinedecorator@1.6.0]}"
cp_to "$p" leaflet-polylinedecorator dist/leaflet.polylineDecorator.js LICENSE

# Manifest: package, version, integrity, files (with sha256) for review.
python3 - "$DEST" "${PACKAGES[@]}" <<'PY'
import hashlib, json, pathlib, sys
dest = pathlib.Path(sys.argv[1])
pkgs = []
for entry in sys.argv[2:]:
    spec, integrity = entry.split()
    name, _, version = spec.rpartition("@")
    pkgs.append({"name": name, "version": version, "integrity": integrity})
files = {
    str(p.relative_to(dest)): hashlib.sha256(p.read_bytes()).hexdigest()
    for p in sorted(dest.rglob("*"))
    if p.is_file() and p.name != "manifest.json" and "harewatch" not in p.relative_to(dest).parts
}
(dest / "manifest.json").write_text(
    json.dumps({"registry": "https://registry.npmjs.org", "packages": pkgs, "files": files}, indent=1) + "\n"
)
PY

du -sh "$DEST"
echo "vendored into $DEST; review 'git diff --stat dashboard/static' and commit"
