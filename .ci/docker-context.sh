#!/usr/bin/env bash
# The container image's build stage, without a Docker engine (issue 13): copies exactly the
# files the Dockerfile's build stage COPYs (read from the Dockerfile itself, out of the
# repository's tracked files, as a clean clone's build context holds them) into an empty
# folder, and runs the stage's `cargo build --release --locked` there. A file the build
# reads but the Dockerfile does not copy fails this step as it would fail `docker build`.
#
# Usage: .ci/docker-context.sh OUT   (OUT: where to leave the built binary)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: .ci/docker-context.sh OUT}"

context=$(mktemp -d /tmp/rectify-context.XXXXXX)
build=$(mktemp -d /tmp/rectify-image-build.XXXXXX)
trap 'rm -rf "$context" "$build"' EXIT
# The build context: the tracked files (what a clean clone has), minus .dockerignore's
# patterns if there is one (there is not: the Dockerfile names what it needs).
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$context"
if [ -f .dockerignore ]; then
    echo "FATAL: .dockerignore exists; teach this script its patterns before relying on it" >&2
    exit 1
fi

# The first stage: from its FROM to the next FROM. Its WORKDIR is where COPY destinations
# are relative to; only plain `COPY <src>... <dest>` (no --from, no flags) is understood.
workdir=""
copies=0
run=""
stage=0
while IFS= read -r line; do
    case "$line" in
        FROM\ *) stage=$((stage + 1)); continue ;;
    esac
    [ "$stage" -eq 1 ] || continue
    read -r -a words <<<"$line"
    [ "${#words[@]}" -gt 0 ] || continue
    case "${words[0]}" in
        WORKDIR) workdir="${words[1]}" ;;
        COPY)
            if [[ "${words[1]}" == --* ]]; then
                echo "FATAL: COPY with flags in the build stage is not understood: $line" >&2
                exit 1
            fi
            n=${#words[@]}
            dest="${words[$((n - 1))]}"
            for src in "${words[@]:1:$((n - 2))}"; do
                [ -e "$context/$src" ] || { echo "FATAL: the Dockerfile copies \`$src\`, which the repository does not have" >&2; exit 1; }
                if [ -d "$context/$src" ]; then
                    mkdir -p "$build/$dest"
                    cp -a "$context/$src/." "$build/$dest/"
                else
                    case "$dest" in
                        */) mkdir -p "$build/$dest"; cp -a "$context/$src" "$build/$dest" ;;
                        *) mkdir -p "$(dirname "$build/$dest")"; cp -a "$context/$src" "$build/$dest" ;;
                    esac
                fi
                echo "COPY $src -> $workdir/$dest"
                copies=$((copies + 1))
            done
            ;;
        RUN)
            case "$line" in *cargo\ build*) run="$line" ;; esac
            ;;
    esac
done <Dockerfile
[ "$workdir" = "/src" ] || { echo "FATAL: expected the build stage's WORKDIR /src, found \`$workdir\`" >&2; exit 1; }
[ "$copies" -gt 0 ] || { echo "FATAL: no COPY in the build stage" >&2; exit 1; }
case "$run" in
    *"cargo build --release --locked"*) ;;
    *) echo "FATAL: the build stage's RUN is not \`cargo build --release --locked\`: $run" >&2; exit 1 ;;
esac

echo "the build stage's context holds: $(cd "$build" && find . -maxdepth 1 -mindepth 1 | sort | tr '\n' ' ')"
# The same compiler profile as the image; the target folder is shared with the other steps
# so that dependencies are not compiled twice (the crate itself is, from the copied files).
(cd "$build" && cargo build --release --locked)
mkdir -p "$(dirname "$out")"
cp "${CARGO_TARGET_DIR:-$build/target}/release/rectify" "$out"
"$out" --version
"$out" openapi >/dev/null
echo "built from the Dockerfile's context alone: $out"
