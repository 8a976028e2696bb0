"""fetch: download the four MNIST gzip files into data/raw/, each verified by its checksum."""

import sys
from pathlib import Path

from dae import mnist

OUT = Path("data/raw")


def main():
    sources = mnist.sources()
    try:
        used = mnist.fetch(OUT, sources, progress=sys.stderr.isatty())
    except mnist.FetchError as error:
        sys.exit(f"fetch: {error}")
    size = sum((OUT / name).stat().st_size for name in mnist.FILES)
    print(f"fetch: {len(used)} files, {size / 1e6:.1f} MB, sha256 verified, in {OUT}/ from {', '.join(sorted(set(used.values())))}")


if __name__ == "__main__":
    main()
