"""Copy check speed: one upload's MinHash signature against every member's, as a cooperative grows.

Every accepted contribution leaves a fingerprint row; an upload is compared with the union of each member's rows
(``member_matrix``) and the closest member is found (``best_match``). Both run on every upload, so they must stay
well under a second for tens of thousands of members. Random signatures stand in for members (the comparison
costs the same whatever the values). Prints the median time of both steps for each membership size.

    python benchmarks/fingerprint.py [--members 20000 100000] [--rows-per-member 2] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from tutti.coop.contributions import fingerprint as fp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--rows-per-member", type=int, default=2, help="contributions per member")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    upload = fp.signature(rng.integers(0, 2**63, 10_000, dtype=np.uint64))
    for members in args.members:
        rows = [
            (f"member-{i:06d}", fp.Fingerprint(rng.integers(0, 2**63, fp.PERMUTATIONS, dtype=np.uint64), 1).to_bytes())
            for i in range(members)
            for _ in range(args.rows_per_member)
        ]
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            owners, matrix = fp.member_matrix(rows)
            fp.best_match(upload, owners, matrix)
            times.append(time.perf_counter() - started)
        print(
            f"{members:>9,} members, {len(rows):,} fingerprint rows: member_matrix + best_match, "
            f"median of {args.runs}: {statistics.median(times) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
